"""Per-user font install on Windows (10 1809+), with the OS calls behind `WindowsFontApi`.

A per-user font is a file in `%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts` plus a value
under HKCU `Software\\Microsoft\\Windows NT\\CurrentVersion\\Fonts` (what new processes
and DirectWrite read) plus `AddFontResourceW` (what makes it usable in this logon
session now), then a `WM_FONTCHANGE` broadcast. Removal undoes the three in reverse.
The logic here runs everywhere against a fake API; `RealWindowsFontApi` only on Windows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from .font_backends import (
    OWNED_PREFIX,
    FontFile,
    Ownership,
    copy_atomically,
    find_identical,
    remove_installed_file,
    same_content,
)

FONTS_KEY = r"Software\Microsoft\Windows NT\CurrentVersion\Fonts"


class WindowsFontApi(Protocol):
    """The registry, gdi32 and user32 calls the backend makes, and nothing more."""

    def list_font_values(self) -> dict[str, str]:
        """HKCU Fonts key: value name -> data (a path, possibly relative to %WINDIR%\\Fonts)."""
        ...

    def set_font_value(self, name: str, data: str) -> None: ...

    def delete_font_value(self, name: str) -> None:
        """Delete the value; no error when it is not there."""
        ...

    def add_font_resource(self, path: str) -> int:
        """`AddFontResourceW`: how many fonts it added (0 = failure)."""
        ...

    def remove_font_resource(self, path: str) -> bool:
        """`RemoveFontResourceW`: False when the file was not loaded."""
        ...

    def broadcast_font_change(self) -> None:
        """`WM_FONTCHANGE` to all top-level windows, without hanging on a frozen one."""
        ...


class WindowsBackend:
    name = "windows"

    def __init__(
        self,
        api: WindowsFontApi | None = None,
        user_fonts_dir: Path | None = None,
        system_fonts_dir: Path | None = None,
    ) -> None:
        if api is None:
            api = real_windows_api()
        self.api = api
        if user_fonts_dir is None:
            local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
            user_fonts_dir = Path(local) / "Microsoft" / "Windows" / "Fonts"
        if system_fonts_dir is None:
            system_fonts_dir = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
        self.user_fonts_dir = user_fonts_dir
        self.system_fonts_dir = system_fonts_dir

    def _registered_file(self, data: str) -> Path:
        path = Path(data)
        return path if path.is_absolute() else self.system_fonts_dir / path

    def find_installed(self, font: FontFile) -> Path | None:
        found = find_identical(font, [self.user_fonts_dir, self.system_fonts_dir])
        if found is not None:
            return found
        # A font the user registered from some other folder counts too; STMPO's never do.
        for data in self.api.list_font_values().values():
            path = self._registered_file(data)
            if not path.name.startswith(OWNED_PREFIX) and same_content(font, path):
                return path
        return None

    def owned(self, tag: str) -> Ownership:
        return Ownership(self.user_fonts_dir, f"{OWNED_PREFIX}{tag}-", own_folder=False)

    def plan(self, font: FontFile, tag: str) -> dict[str, str]:
        path = self.user_fonts_dir / f"{OWNED_PREFIX}{tag}-{font.path.name}"
        value = f"{font.display_name} ({font.kind})"
        taken = self.api.list_font_values()
        if value in taken and taken[value] != str(path):
            # Another version of this font is registered under the plain name: keep it,
            # and register ours under a name of its own.
            value = f"{font.display_name} [{OWNED_PREFIX}{tag}] ({font.kind})"
        return {"path": str(path), "registry_value": value}

    def install(self, font: FontFile, record: Mapping[str, str]) -> None:
        copy_atomically(font.path, Path(record["path"]))
        self.api.set_font_value(record["registry_value"], record["path"])
        if self.api.add_font_resource(record["path"]) == 0:
            raise OSError(f"AddFontResourceW loaded no font from {record['path']}")

    def remove(self, record: Mapping[str, str]) -> None:
        path = record["path"]
        self.api.remove_font_resource(path)
        value = record.get("registry_value")
        if value and self.api.list_font_values().get(value) == path:
            self.api.delete_font_value(value)
        try:
            remove_installed_file(record)
        except PermissionError as exc:
            raise OSError(f"{path} is still in use (a process has it open): {exc}") from exc

    def refresh(self) -> None:
        self.api.broadcast_font_change()


def real_windows_api() -> WindowsFontApi:
    if sys.platform == "win32":
        return RealWindowsFontApi()
    raise OSError("the Windows font backend needs Windows")


if sys.platform == "win32":
    import ctypes
    import winreg
    from ctypes import wintypes

    _HWND_BROADCAST = 0xFFFF
    _WM_FONTCHANGE = 0x001D
    _SMTO_ABORTIFHUNG = 0x0002
    _BROADCAST_TIMEOUT_MS = 2000

    class RealWindowsFontApi:
        """winreg + ctypes. Runs only on Windows; its callers are tested with a fake."""

        def __init__(self) -> None:
            self._gdi32 = ctypes.WinDLL("gdi32", use_last_error=True)
            self._user32 = ctypes.WinDLL("user32", use_last_error=True)
            self._gdi32.AddFontResourceW.argtypes = [wintypes.LPCWSTR]
            self._gdi32.AddFontResourceW.restype = ctypes.c_int
            self._gdi32.RemoveFontResourceW.argtypes = [wintypes.LPCWSTR]
            self._gdi32.RemoveFontResourceW.restype = wintypes.BOOL
            self._user32.SendMessageTimeoutW.argtypes = [
                wintypes.HWND,
                wintypes.UINT,
                wintypes.WPARAM,
                wintypes.LPARAM,
                wintypes.UINT,
                wintypes.UINT,
                ctypes.POINTER(wintypes.DWORD),
            ]
            self._user32.SendMessageTimeoutW.restype = wintypes.LPARAM

        def list_font_values(self) -> dict[str, str]:
            values: dict[str, str] = {}
            try:
                key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, FONTS_KEY)
            except FileNotFoundError:
                return values
            with key:
                index = 0
                while True:
                    try:
                        name, data, _kind = winreg.EnumValue(key, index)
                    except OSError:
                        break
                    if isinstance(data, str):
                        values[name] = data
                    index += 1
            return values

        def set_font_value(self, name: str, data: str) -> None:
            with winreg.CreateKeyEx(
                winreg.HKEY_CURRENT_USER, FONTS_KEY, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.SetValueEx(key, name, 0, winreg.REG_SZ, data)

        def delete_font_value(self, name: str) -> None:
            try:
                with winreg.OpenKey(
                    winreg.HKEY_CURRENT_USER, FONTS_KEY, 0, winreg.KEY_SET_VALUE
                ) as key:
                    winreg.DeleteValue(key, name)
            except FileNotFoundError:
                return

        def add_font_resource(self, path: str) -> int:
            return int(self._gdi32.AddFontResourceW(path))

        def remove_font_resource(self, path: str) -> bool:
            return bool(self._gdi32.RemoveFontResourceW(path))

        def broadcast_font_change(self) -> None:
            result = wintypes.DWORD()
            self._user32.SendMessageTimeoutW(
                _HWND_BROADCAST,
                _WM_FONTCHANGE,
                0,
                0,
                _SMTO_ABORTIFHUNG,
                _BROADCAST_TIMEOUT_MS,
                ctypes.byref(result),
            )
