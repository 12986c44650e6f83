"""An upload handler that stops reading a file past the configured size (config/console.yaml),
so an oversized or endless upload costs a message, not the disk."""

from __future__ import annotations

from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler


class LimitedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.refused: list[str] = []  # names of files cut off for their size
        self._seen = 0

    def new_file(self, field_name, file_name, *args, **kwargs):
        self._seen = 0
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self._seen += len(raw_data)
        if self._seen > self.max_bytes:
            self.refused.append(self.file_name)
            self.file.close()
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)
