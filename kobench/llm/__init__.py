"""Talking to OpenAI-compatible chat servers (a `vllm serve` endpoint, GPT-4o): one client with bounded
concurrency and retries, shared by the `openai` model adapter and the LLM judges."""
