// One import for the CLI and for users of the library: every layer.
@_exported import TritonPackBundle
@_exported import TritonPackLint
@_exported import TritonPackModels
@_exported import TritonPackRepository
@_exported import TritonPackS3
@_exported import TritonPackServing
