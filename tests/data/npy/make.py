#!/usr/bin/env python3
"""Regenerates the golden .npy/.npz files in this folder with real NumPy (tested with 1.24).

    python3 tests/data/npy/make.py

tests/unit/io/test_npy.cpp reads them and knows their contents: keep the two in step.
Every file is tiny and deterministic, so re-running this script leaves git clean.
"""
import io
import pathlib
import zipfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SHAPE = (2, 3)


def values(code):
    """Six values per dtype, extremes included, laid out as SHAPE; code like '<f4' or '|b1'."""
    kind = code[-2]
    if kind == "b":
        v = [True, False, True, False, False, True]
    elif kind == "f":
        v = [0.0, -1.5, 0.1, 1e30, np.inf, -np.inf]
    elif kind == "i":
        info = np.iinfo(code)
        v = [info.min, -1, 0, 1, 2, info.max]
    else:
        info = np.iinfo(code)
        v = [0, 1, 2, 3, 4, info.max]
    return np.array(v, dtype=code).reshape(SHAPE)


def save(name, array, **kwargs):
    np.save(HERE / name, array, **kwargs)


def write_with_version(name, array, version):
    with open(HERE / name, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def main():
    codes = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
    for code in codes:
        prefix = "|" if code[1] == "1" else "<"
        save(f"{code}_2x3.npy", values(prefix + code))
    for code in ["f8", "i4", "u2"]:
        save(f"be_{code}_2x3.npy", values(">" + code))
    save("scalar_f8.npy", np.array(3.5))
    save("empty_f4_0x3.npy", np.zeros((0, 3), dtype="<f4"))
    save("vec_i8.npy", np.arange(5, dtype="<i8"))
    write_with_version("v2_f4_2x3.npy", values("<f4"), (2, 0))
    write_with_version("v3_f4_2x3.npy", values("<f4"), (3, 0))
    save("fortran_f8_2x3.npy", np.asfortranarray(values("<f8")))
    save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("complex_c8.npy", np.zeros(2, dtype="<c8"))

    members = dict(a=values("<f4"), b=np.arange(5, dtype="<i8"), c=values("|b1"))
    np.savez(HERE / "savez_stored.npz", values("<u2"), **members)
    np.savez_compressed(HERE / "savez_deflated.npz", values("<u2"), **members)

    # ZIP64 everywhere (sizes in the central directory, ZIP64 end record), as NumPy writes
    # archives of 4 GiB and more: lower zipfile's threshold instead of writing gigabytes.
    saved_limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 1
    try:
        np.savez_compressed(HERE / "zip64.npz", **members)
    finally:
        zipfile.ZIP64_LIMIT = saved_limit

    # Sanity: NumPy reads back what it wrote.
    with np.load(HERE / "zip64.npz") as z:
        assert sorted(z.files) == ["a", "b", "c"]
        assert np.array_equal(z["a"], members["a"])
    with zipfile.ZipFile(HERE / "zip64.npz") as z:
        raw = (HERE / "zip64.npz").read_bytes()
        assert b"PK\x06\x06" in raw, "expected a ZIP64 end-of-central-directory record"


if __name__ == "__main__":
    main()
