#!/usr/bin/env python3
"""Peak search from Python: lauemap.peaks (through liblauemapc.so) beside LaueTools' readmccd.PeakSearch
in the same Python process, on the same real frames, one core (run under taskset -c 0).

Usage (tools/bench/python_peaks.sh runs it): PYTHON_OF_LAUETOOLS python_peaks.py DRIVER REPEAT IMAGE:CCDLABEL[:KW=V,...] ...
DRIVER is shared/peers/lauetools/run_lauetools.py (its LaueTools presets are used as they are).
Prints one line per image: median seconds of LaueTools PeakSearch (reads the file itself), of
lauemap.read_image + lauemap.peaks, and of lauemap.peaks on the frame already read.
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
        print(f"{image.split('/')[-1]}: LaueTools PeakSearch {len(res[0])} peaks {t_lt:.3f} s; "
              f"lauemap read_image+peaks {len(table)} peaks {1000 * t_read:.1f} ms; lauemap.peaks {1000 * t_peaks:.1f} ms "
              f"(fastest {1000 * fastest[0]:.1f} ms); speed-up {t_lt / t_read:.1f}x", flush=True)


if __name__ == "__main__":
    main()
