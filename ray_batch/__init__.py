"""Batch OCR on a Ray cluster: the optional extra ``pip install 'ocr-lstm[ray]'`` (docs/cluster.md).

Ray Data reads the files, CPU tasks decode them with our own decoder and its limits, and a
pool of actors, each holding one model, reads them into the local engine's rows. Only
:mod:`ray_batch.engine` imports Ray; the stages it runs are plain functions of
:mod:`ray_batch.stages`, the input listing is :mod:`ray_batch.sources` and the output
folder of shards :mod:`ray_batch.shards`. The library ``ocr_lstm`` never imports this package.
"""
