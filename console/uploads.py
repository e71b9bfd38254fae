"""The CSV files staff upload (procedures, indicators, feedback from other channels)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request


async def uploaded_file(request: Request, field: str) -> bytes | None:
    """The content of the file posted in `field`, or None when no file was chosen."""
    async with request.form() as form:  # closes the uploaded file's temporary storage
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            return None
        return await upload.read()
