"""Pictures of what the library computes; they need matplotlib, the ``viz`` extra."""
