"""The floor for the CPU comparison: a minimal streaming chat on the same Gradio and SDK as Palmyra Chat.

No run cards, no coalescer (one update per chunk), no checks: what any Gradio app pays to stream a Writer
reply. bench/cpu.py measures it beside the app, in the same run, with the same stand-in and load.
Its /chat takes the same inputs as the app's, so both are sent the same data.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import gradio as gr
from writerai import AsyncWriter

client = AsyncWriter(api_key=os.environ["WRITER_API_KEY"], base_url=os.environ["WRITER_BASE_URL"], max_retries=0)


async def chat(
    message: str,
    history: list[dict],
    temperature: float = 1.0,
    non_streaming: bool = False,  # the app's input, taken and ignored: it always streams
    model: str = "palmyra-x5",
    system: str = "",
    own_key: str = "",  # likewise
) -> AsyncIterator[str]:
    messages = [
        {"role": "system", "content": system},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": message},
    ]
    stream = await client.chat.chat(
        messages=messages, model=model, temperature=temperature, stream=True, stream_options={"include_usage": True}
    )
    text = ""
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
                yield text


with gr.Blocks() as demo:
    inputs = [
        gr.Slider(0, 2, 1.0, label="temperature"),
        gr.Checkbox(label="non_streaming"),
        gr.Textbox("palmyra-x5", label="model"),
        gr.Textbox("", label="system"),
        gr.Textbox("", label="own_key"),
    ]
    gr.ChatInterface(chat, additional_inputs=inputs, api_name="chat", concurrency_limit=None)
demo.queue(default_concurrency_limit=None)

if __name__ == "__main__":
    demo.launch()
