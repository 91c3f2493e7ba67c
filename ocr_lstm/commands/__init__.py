"""One module per ``ocr-lstm`` sub-command: ``add_arguments(parser)`` and ``run(args) -> exit code``."""
