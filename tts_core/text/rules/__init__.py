"""The front end's rules, one module per class of written text; tts_core.text.normalize runs them in order."""
