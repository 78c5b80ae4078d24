"""Exceptions raised by the models package; every message says what is wrong and what to do."""


class ModelError(Exception):
    """Base class for every error the models package raises on purpose."""


class InvalidParameter(ModelError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ModelNotFound(ModelError):
    """An unknown model name, or a path that does not exist or is not a model."""


class ModelNotInstalled(ModelError):
    """A hub model that is not in the local cache while the hub cannot be reached."""


class DeviceUnavailable(ModelError):
    """The requested device does not exist on this machine."""


class OutOfDeviceMemory(ModelError):
    """The device ran out of memory while running a job."""


class Cancelled(ModelError):
    """The job was cancelled: between two denoising steps, or between two chunks of a download."""


class DownloadFailed(ModelError):
    """A download could not finish: the server refused it, the network failed, or a checksum did not match."""


class UnknownModelLayout(ModelNotFound):
    """A local file or folder that exists but is not any model layout we know."""
