"""Generates the numpy fixtures NpzTest reads (run with numpy; outputs are committed, a few KB).

    /usr/bin/python3 make_npy_fixtures.py

Every array is a simple formula the Java test recomputes on its own.
"""
import io
import numpy as np

def a24():
    return (np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3.0)

# savez (stored) and savez_compressed (deflated), several dtypes and ranks
np.savez("stored.npz", cls_0=a24().astype(np.float32), scalar=np.float32(7.25),
         vector=np.linspace(0, 1, 5).astype(np.float32), empty=np.zeros((0, 3), np.float32))
np.savez_compressed("deflated.npz", cls_0=a24().astype(np.float32),
                    f64=(np.arange(6, dtype=np.float64) / 10.0).reshape(3, 2),
                    f16=np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -24, 2.0 ** -14, np.inf, -np.inf, np.nan],
                                 dtype=np.float16))
# single .npy files: format 1.0 and 2.0, Fortran order, big endian, int32
np.save("v1.npy", a24().astype(np.float32))
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, a24().astype(np.float32), version=(2, 0))
np.save("fortran.npy", np.asfortranarray(a24().astype(np.float32)))
np.save("bigendian.npy", a24().astype(">f4"))
np.save("int32.npy", np.arange(4, dtype=np.int32))
# a truncated file: header intact, data cut short
buf = io.BytesIO()
np.save(buf, a24().astype(np.float32))
with open("truncated.npy", "wb") as f:
    f.write(buf.getvalue()[:-10])
