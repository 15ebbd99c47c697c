"""AI providers (gemini, local) behind one registry."""
