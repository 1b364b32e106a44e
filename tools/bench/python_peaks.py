#!/usr/bin/env python3
"""Peak search from Python: lauemap.peaks (through liblauemapc.so) beside LaueTools' readmccd.PeakSearch
in the same Python process, on the same real frames, one core (run under taskset -c 0).

Usage (tools/bench/python_peaks.sh runs it): PYTHON_OF_LAUETOOLS python_peaks.py DRIVER REPEAT IMAGE:CCDLABEL[:KW=V,...] ...
DRIVER is shared/peers/lauetools/run_lauetools.py (its LaueTools presets are used as they are).
Prints one line per image: median seconds of LaueTools PeakSearch (reads the file itself), of
lauemap.read_image + lauemap.peaks, and of lauemap.peaks on the frame already read; then, call by call,
lauemap.peaks against the library's own search on the same frame (lauemap_peaks_search_seconds, timed
inside the library): the median ratio is Python's cost over the library's own.
"""
import contextlib
import importlib.util
import io
import statistics
import sys
import time


def median_time(function, repeat, fastest=None):
    """Median seconds of `repeat` calls and the last result; the fastest call's seconds go to `fastest`."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - t0)
    if fastest is not None:
        fastest.append(min(times))
    return statistics.median(times), result


def main():
    driver, repeat = sys.argv[1], int(sys.argv[2])
    spec = importlib.util.spec_from_file_location("run_lauetools", driver)
    lt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lt)
    import lauemap

    for item in sys.argv[3:]:
        parts = item.split(":")
        image, label = parts[0], parts[1]
        kw = lt.peaksearch_kwargs("batch", label)
        for pair in (parts[2].split(",") if len(parts) > 2 else []):
            k, v = pair.split("=")
            kw[k] = {"False": False, "True": True}.get(v, int(v) if v.isdigit() else v)

        def lauetools():
            with contextlib.redirect_stdout(io.StringIO()):
                return lt.RMCCD.PeakSearch(image, **kw)

        t_lt, res = median_time(lauetools, repeat)
        frame = lauemap.read_image(image)
        lauemap.peaks(frame)                                   # warm-up
        t_read, table = median_time(lambda: lauemap.peaks(lauemap.read_image(image)), 2 * repeat)
        fastest = []
        t_peaks, _ = median_time(lambda: lauemap.peaks(frame), 2 * repeat, fastest)
        # Call by call: lauemap.peaks, then the library's own search on the same frame (timed inside the
        # C library, the frame converted beforehand), so both see the same state of the host.
        own, ratios = [], []
        for _ in range(4 * repeat):
            t_python, _ = median_time(lambda: lauemap.peaks(frame), 1)
            t_own = search_seconds(frame)
            own.append(t_own)
            ratios.append(t_python / t_own)
        print(f"{image.split('/')[-1]}: LaueTools PeakSearch {len(res[0])} peaks {t_lt:.3f} s; "
              f"lauemap read_image+peaks {len(table)} peaks {1000 * t_read:.1f} ms; lauemap.peaks {1000 * t_peaks:.1f} ms "
              f"(fastest {1000 * fastest[0]:.1f} ms); speed-up {t_lt / t_read:.1f}x; "
              f"library's own search {1000 * statistics.median(own):.1f} ms, lauemap.peaks / own call by call: "
              f"median {statistics.median(ratios):.3f} (quartiles {statistics.quantiles(ratios, n=4)[0]:.3f}-"
              f"{statistics.quantiles(ratios, n=4)[2]:.3f}, {len(ratios)} pairs)", flush=True)


def search_seconds(frame):
    """Seconds of the library's own peak search on `frame` (lauemap_peaks_search_seconds)."""
    import ctypes
    import lauemap
    from lauemap import _native
    array, code = lauemap._frame(frame)
    seconds = ctypes.c_double()
    _native.call(_native.lib.lauemap_peaks_search_seconds, array.ctypes.data_as(ctypes.c_void_p), code,
                 array.shape[1], array.shape[0], None, ctypes.byref(seconds))
    return seconds.value


if __name__ == "__main__":
    main()
