"""imagine: the client side of the imagined daemon.

`imagine.client.Client` is the typed async client every Python front end uses;
`imagine.types` holds the plain dataclasses it speaks; `imagine.v1` holds the
generated gRPC stubs of the contract (the `.proto` files beside them).
"""

__version__ = "0.1.0"
