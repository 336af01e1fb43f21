"""The edge stage (DECIoT): adapters, validation and normalisation of what sensors send."""
