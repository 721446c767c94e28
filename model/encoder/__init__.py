"""The model: Whisper weights, the classifier and its one-file model, the engines that run it."""
