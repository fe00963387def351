from context_loop import loop_llm  # noqa: F401  (the fixture)
