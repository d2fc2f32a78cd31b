"""Packs the Python that runs this script (a venv or an installation with OneFlow) into an
execution environment for Triton's Python backend: a `.tar.gz` that a model names in its config
(`EXECUTION_ENV_PATH`), which the backend extracts once and activates before it starts the stub.

How the backend uses it (python_backend `src/pb_env.cc` ExtractIfNotExtracted, `src/stub_launcher.cc`):
the archive is extracted under /tmp/python_env_*, `<env>/bin/activate` must exist, and the stub runs
as `source <env>/bin/activate && exec env LD_LIBRARY_PATH=<env>/lib:$LD_LIBRARY_PATH <stub> ...`.
The stub embeds one Python version and links `libpython3.X.so.1.0`, so the archive carries what a
venv lacks and makes it relocatable, as conda-pack archives do:

  bin/activate                    finds its own folder, sets PYTHONHOME there, adds lib/ and the
                                  CUDA libraries the OneFlow wheel links (even on CPU) to the loader path
  bin/python3.X (+ python3, python)  the interpreter, for the runtime's checks in a child process
  lib/libpython3.X.so.1.0         the library the stub links
  lib/python3.X/                  the standard library (without its tests and GUI modules)
  lib/python3.X/site-packages/    the venv's packages (OneFlow, numpy, ...)
  tritonpack-environment.json     the Python version and the packages, as name==version

The archive is reproducible: members sorted by name, owner 0/0 without names, gzip without a
name or timestamp; file times are the installed files' own (so installed .pyc stay valid), and
the generated files carry time 0. The same environment gives the same bytes.

Usage: python pack_environment.py --out FILE.tar.gz   (prints a JSON summary)
       python pack_environment.py --describe          (the environment's identity, without packing)
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import sysconfig
import tarfile

_SKIPPED_STDLIB = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip"}
_CUDA_LIBRARIES = ("nvidia/cudnn/lib", "nvidia/cublas/lib")


def _version():
    return "%d.%d" % sys.version_info[:2]


def _site_packages():
    return sysconfig.get_paths()["purelib"]


def _packages(site_packages):
    found = []
    for name in sorted(os.listdir(site_packages)):
        if name.endswith(".dist-info"):
            found.append(name[: -len(".dist-info")].replace("-", "==", 1))
    return found


def describe():
    site_packages = _site_packages()
    packages = _packages(site_packages)
    identity = json.dumps({"python": sys.version.split()[0], "packages": packages}, sort_keys=True)
    return {
        "python": sys.version.split()[0],
        "version": _version(),
        "packages": packages,
        "oneflow": any(package.startswith("oneflow==") for package in packages),
        "key": hashlib.sha256(identity.encode()).hexdigest()[:16],
    }


def _activate_script(version):
    libraries = ":".join(f"$_tritonpack_env/lib/python{version}/site-packages/{folder}" for folder in _CUDA_LIBRARIES)
    return "\n".join([
        "# Written by tritonpack: activates this relocatable Python environment for Triton's Python",
        "# backend, wherever it was extracted (the backend sources it with bash before the stub).",
        '_tritonpack_env=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)',
        'export PYTHONHOME="$_tritonpack_env"',
        'export PATH="$_tritonpack_env/bin:$PATH"',
        f'export LD_LIBRARY_PATH="$_tritonpack_env/lib:{libraries}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"',
        "export PYTHONNOUSERSITE=1",
        "unset PYTHONPATH",
        "unset _tritonpack_env",
        "",
    ])


class _Archive:
    def __init__(self, fileobj):
        self.tar = tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.GNU_FORMAT)
        self.members = []

    @staticmethod
    def _info(name, mode, mtime):
        info = tarfile.TarInfo(name)
        info.mode = mode
        info.mtime = int(mtime)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def add_bytes(self, name, data, mode=0o644):
        info = self._info(name, mode, 0)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def add_symlink(self, name, target):
        info = self._info(name, 0o777, 0)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        self.tar.addfile(info)

    def add_directory(self, name):
        self.tar.addfile(self._info(name, 0o755, 0))

    def add_file(self, name, path):
        status = os.stat(path)
        info = self._info(name, status.st_mode & 0o7777, status.st_mtime)
        info.size = status.st_size
        with open(path, "rb") as handle:
            self.tar.addfile(info, handle)

    def add_tree(self, name, root, skipped=()):
        """Every file under `root` as `name/...`, sorted; symbolic links that stay inside the tree
        are kept as links, others are followed."""
        entries = []
        for folder, folders, files in os.walk(root):
            relative = os.path.relpath(folder, root)
            folders[:] = sorted(f for f in folders if not (relative == "." and f in skipped))
            for entry in sorted(folders) + sorted(files):
                entries.append(os.path.normpath(os.path.join(relative, entry)))
        for relative in sorted(entries):
            path = os.path.join(root, relative)
            member = f"{name}/{relative}"
            if os.path.islink(path):
                target = os.readlink(path)
                resolved = os.path.realpath(path)
                if not os.path.isabs(target) and resolved.startswith(os.path.realpath(root) + os.sep):
                    self.add_symlink(member, target)
                    continue
                if os.path.isdir(resolved):
                    continue  # a link to a folder outside the tree: its contents are not part of the environment
            if os.path.isdir(path):
                self.add_directory(member)
            elif os.path.isfile(path):
                self.add_file(member, path)

    def close(self):
        self.tar.close()


def pack(out):
    version = _version()
    identity = describe()
    library_dir = sysconfig.get_config_var("LIBDIR")
    library = sysconfig.get_config_var("INSTSONAME") or f"libpython{version}.so.1.0"
    library_path = os.path.join(library_dir, library)
    if not os.path.isfile(library_path):
        raise SystemExit(f"{library_path}: missing; the Python-backend stub links libpython{version}, so this Python "
                         "must be built with --enable-shared (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared)")
    stdlib = sysconfig.get_paths()["stdlib"]
    executable = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    temporary = out + ".partial"
    with open(temporary, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as compressed:
            archive = _Archive(compressed)
            archive.add_directory("bin")
            archive.add_bytes("bin/activate", _activate_script(version).encode())
            archive.add_symlink("bin/python", f"python{version}")
            archive.add_symlink("bin/python3", f"python{version}")
            archive.add_file(f"bin/python{version}", executable)
            archive.add_directory("lib")
            archive.add_file(f"lib/{library}", library_path)
            archive.add_symlink(f"lib/libpython{version}.so", library)
            archive.add_tree(f"lib/python{version}", stdlib, skipped=_SKIPPED_STDLIB)
            archive.add_tree(f"lib/python{version}/site-packages", _site_packages())
            archive.add_bytes("tritonpack-environment.json", (json.dumps(identity, indent=2, sort_keys=True) + "\n").encode())
            archive.close()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temporary, out)
    digest = hashlib.sha256()
    with open(out, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return dict(identity, archive=out, size=os.path.getsize(out), sha256=digest.hexdigest())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="the .tar.gz to write")
    parser.add_argument("--describe", action="store_true", help="print the environment's identity and exit")
    arguments = parser.parse_args(argv)
    if arguments.describe or not arguments.out:
        print(json.dumps(describe()))
        return 0
    print(json.dumps(pack(os.path.abspath(arguments.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
