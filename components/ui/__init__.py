"""The Gradio page: one module a tab over ``components.chat``'s service. Never imports ``writerai``."""
