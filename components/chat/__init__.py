"""The chat, free of Gradio and of the SDK: the declared parameters, the conversation, the chat service
(plans and their replies), comparisons, run cards, copy-as-code, exports. Imports only components.writer
below it."""
