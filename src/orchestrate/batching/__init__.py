"""Cloud calls that can wait, sent through the vendors' Batch APIs at their batch price.

`BatchQueue` gathers the requests that arrive together into one batch per model, submits it,
keeps its id on disk before anything else, polls it with backoff and hands each caller its own
result. A process that dies while a batch runs finds it again on the next start and polls it,
never submitting the same requests twice. `BatchedModel` is how the router uses it: a model like
any other, whose answers come from the queue.
"""
