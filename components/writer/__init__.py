"""Writer's side: clients, the reply generator with retries and deadlines, error wording, streaming.
The only layer that imports ``writerai``; knows nothing of Gradio nor of the app's settings."""
