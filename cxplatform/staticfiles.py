"""A static files finder for single files that installed Python packages ship.

plotly.js comes from the installed `plotly` package (`plotly/package_data/plotly.min.js`), so its
version always matches the Python library and no copy is committed or fetched from a CDN. Why not a
prefixed `STATICFILES_DIRS` entry for `package_data/`: that folder also holds a 4.8 MB widget
bundle, sample data sets and templates, which collectstatic would copy, compress and publish for
nothing. This finder publishes exactly the files named in `settings.STATIC_PACKAGE_FILES`
(`{"vendor/plotly/plotly.min.js": ("plotly", "package_data/plotly.min.js")}`); it works with
`collectstatic`, `finders.find()` and WhiteNoise's finder mode alike.
"""

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing (executing) it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class PackageFileFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        # static path -> (storage rooted at the file's folder, prefixed with the static folder)
        self.files: dict[str, tuple[FileSystemStorage, str]] = {}
        self.problems: list[str] = []
        for static_path, (package, relative) in settings.STATIC_PACKAGE_FILES.items():
            root = package_dir(package)
            source = root / relative if root else None
            if source is None or not source.is_file():
                self.problems.append(f"{static_path}: {package}/{relative} is not installed")
                continue
            prefix, _, name = static_path.rpartition("/")
            if name != source.name:
                self.problems.append(f"{static_path}: the file name must stay {source.name}")
                continue
            storage = FileSystemStorage(location=source.parent)
            storage.prefix = prefix  # collectstatic and WhiteNoise publish under storage.prefix
            self.files[static_path] = (storage, name)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs) -> list[Error]:
        return [
            Error(f"STATIC_PACKAGE_FILES: {problem}", id="cxplatform.E001")
            for problem in self.problems
        ]

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        found = self.files.get(path.replace(os.sep, "/"))
        if found is None:
            return []  # what Django's own finders answer; finders.find() turns it into None
        storage, name = found
        match = storage.path(name)
        return [match] if find_all else match

    def list(self, ignore_patterns: list[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        for storage, name in self.files.values():
            yield name, storage
