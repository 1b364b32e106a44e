"""lauemap from Python equals the command-line tool on the same inputs (real Ge frames, simulated
frames and scans, Larch-normalised spectra); bad input raises LaueMapError naming the file; the GIL
is released during long calls."""
import io
import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

import lauemap
from conftest import ROOT, cli, fixture


def test_version_matches_the_cli():
    assert cli("--version").strip() == lauemap.__version__


@pytest.mark.parametrize("name", ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif"])
def test_read_image_is_the_frame_lauemap_reads(name):
    frame = lauemap.read_image(fixture(name))
    assert frame.dtype == np.uint16 and frame.ndim == 2
    info = dict(line.split(": ", 1) for line in cli("info", fixture(name)).splitlines() if ": " in line)
    assert info["size"].startswith(f"{frame.shape[1]} x {frame.shape[0]}") and info["pixel type"] == "uint16"
    assert int(info["max"]) == int(frame.max()) and int(info["min"]) == int(frame.min())
    assert abs(float(info["mean"]) - float(frame.mean(dtype=np.float64))) < 1e-4 * float(info["mean"])


def same_as_csv(table, text):
    """`table` is the CSV `text` at full precision: the same columns, dtypes and rows; integers and
    text equal; every number within half a unit of the last decimal the CSV wrote (counted in the text)."""
    expected = pd.read_csv(io.StringIO(text))
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(table.columns) == list(expected.columns) and len(table) == len(expected)
    assert list(table.dtypes) == list(expected.dtypes)
    for c in expected.columns:
        if expected[c].dtype.kind in "iO":
            assert (table[c].to_numpy() == expected[c].to_numpy()).all(), c
        else:
            decimals = max((len(v.split(".")[1]) for v in raw[c] if "." in v), default=0)
            a, b = table[c].to_numpy(float), expected[c].to_numpy(float)
            assert ((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 0.5 * 10.0 ** -decimals + 1e-9)).all(), c


def test_peaks_equal_the_cli_table(ge_frame, ge_calib):
    frame = lauemap.read_image(ge_frame)
    table = lauemap.peaks(frame, ge_calib)
    same_as_csv(table, cli("peaks", ge_frame, "--calib", ge_calib, "--csv"))
    assert len(table) > 100 and list(table.columns[:3]) == ["x", "y", "intensity"]
    # Without a calibration: no angular columns; options reach the search.
    plain = lauemap.peaks(frame, fit="gaussian")
    same_as_csv(plain, cli("peaks", ge_frame, "--csv", "--fit", "gaussian"))
    # Big-endian samples are the same frame (a review found them passed to C byte-swapped); bytes paths work.
    pd.testing.assert_frame_equal(lauemap.peaks(frame.astype(">u2"), ge_calib), table)
    pd.testing.assert_frame_equal(lauemap.peaks(lauemap.read_image(ge_frame.encode()), ge_calib.encode()), table)
    # The same frame as float32 or float64 gives the same peaks (saturation from the dtype aside).
    as_float = lauemap.peaks(frame.astype(np.float64), ge_calib)
    assert len(as_float) == len(table) and np.allclose(as_float["x"], table["x"])


def same_indexing(a, b):
    """Two `index --json` documents agree: the DataFrame carries the peaks at the CSV's precision
    (0.001 px), the CLI at full precision, so numbers agree to that precision, counts and hkl exactly."""
    assert (a["status"], a["n_peaks"], len(a["grains"])) == (b["status"], b["n_peaks"], len(b["grains"]))
    for g, h in zip(a["grains"], b["grains"]):
        assert (g["phase"], g["n_indexed"]) == (h["phase"], h["n_indexed"])
        assert [(s["h"], s["k"], s["l"]) for s in g["spots"]] == [(s["h"], s["k"], s["l"]) for s in h["spots"]]
        assert np.abs(np.array(g["orientation_matrix"]) - np.array(h["orientation_matrix"])).max() < 1e-6
        assert abs(g["mean_deviation_px"] - h["mean_deviation_px"]) <= 2e-4
        for key in ("strain_deviatoric", "strain_deviatoric_sample"):
            assert (g[key] is None) == (h[key] is None)
            if g[key] is not None:
                assert np.abs(np.array(g[key]) - np.array(h[key])).max() < 1e-6


def test_index_of_top_and_side_detectors_equals_the_cli(tmp_path):
    """34-ID-E's top and side detectors (h5py-written fixture): the peaks of both frames, a detector
    column, the side calibration: the same grain as `lauemap index --side`."""
    folder = fixture("layouts/aps34ide-sides")
    top, side = f"{folder}/img_1.h5", f"{folder}/img_2.h5"
    calib, side_calib = f"{folder}/calib.det", f"{folder}/calib_PE0820_763-1850.det"
    tables = [lauemap.peaks(lauemap.read_image(f)).assign(detector=d) for d, f in enumerate([top, side])]
    result = lauemap.index(pd.concat(tables, ignore_index=True), calib, "LiCoO2", side_calib=[side_calib])
    expected = json.loads(cli("index", top, "--calib", calib, "--side", side, "--side-calib", side_calib, "--material", "LiCoO2", "--json"))
    same_indexing(result, expected)
    spots = result["grains"][0]["spots"]
    assert {s["detector"] for s in spots} == {0, 1}
    with pytest.raises(lauemap.LaueMapError):
        lauemap.index(pd.concat(tables, ignore_index=True), calib, "LiCoO2")      # detector 1 without its calibration


def test_index_equals_the_cli_json(ge_frame, ge_calib):
    table = lauemap.peaks(lauemap.read_image(ge_frame))
    result = lauemap.index(table, ge_calib, "Ge")
    expected = json.loads(cli("index", ge_frame, "--calib", ge_calib, "--material", "Ge", "--json"))
    same_indexing(result, expected)
    grain = result["grains"][0]
    assert result["status"] == "indexed" and grain["n_indexed"] >= 90 and grain["mean_deviation_px"] < 0.3
    # An array of x, y, intensity does the same; options reach the indexer.
    again = lauemap.index(table[["x", "y", "intensity"]].to_numpy(), ge_calib, "Ge", strain=True, energy=(5, 25))
    expected = json.loads(cli("index", ge_frame, "--calib", ge_calib, "--material", "Ge", "--json", "--strain", "--energy", "5,25"))
    same_indexing(again, expected)
    assert again["grains"][0]["strain_deviatoric"] is not None
    # Options of value 0 and 1 are numbers, not booleans (JSON 0/1 cast to Bool on Linux).
    off = lauemap.index(table, ge_calib, "Ge", unambiguous_indexed=0, grains=1, min_fraction=0, retry_seed_spots=0)
    assert off["status"] == "indexed"
    with pytest.raises(lauemap.LaueMapError):
        lauemap.index(table, ge_calib, "Ge", strain=1)


def test_classify_equals_scan_run(tmp_path, ge_frame, ge_calib):
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "scan.csv").write_text(f"file,x_um,y_um\n{ge_frame},0,0\n")
    (scan / "calib.det").write_text(open(ge_calib).read())
    cli("scan", "run", str(scan), "--material", "Ge", "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1")
    run = lauemap.load_run(tmp_path / "out")
    row, spots = lauemap.classify(lauemap.read_image(ge_frame), ge_calib, "Ge", label=ge_frame)
    expected = run.patterns.iloc[0]
    for column in run.patterns.columns:
        a, b = row[column], expected[column]
        assert (pd.isna(a) and pd.isna(b)) or a == b, f"{column}: {a!r} vs {b!r}"
    assert row["class"] == "no_defect" and int(row["n_indexed"]) == len(spots)
    pd.testing.assert_frame_equal(spots.reset_index(drop=True), run.peaks.reset_index(drop=True), check_dtype=False)


def test_simulate_equals_the_cli(tmp_path):
    frame, truth = lauemap.simulate("LiCoO2", "medium", defect="gnd", spread=0.4, seed=7)
    out = tmp_path / "p.tif"
    text = cli("simulate", "pattern", "--detector", "medium", "--material", "LiCoO2", "--random-orientation",
               "--defect", "gnd", "--spread", "0.4", "--seed", "7", "--out", str(out))
    written = lauemap.read_image(out)
    assert written.shape == frame.shape == (1024, 1024)
    # The TIFF holds the frame as 16-bit integers (rounded half away from zero, clamped).
    assert np.array_equal(written, np.clip(np.floor(frame + 0.5), 0, 65535).astype(np.uint16))   # rounded half up
    assert truth["class"] == "gnd" and f"{truth['spots']} spots" in text


def test_xanes_normalize_equals_larch_and_the_cli():
    path = fixture("xanes/synthetic/B_map71_co3.txt")
    energy, mu = np.loadtxt(path, unpack=True)
    group = lauemap.xanes.normalize(energy, mu)
    larch = json.load(open(fixture("xanes/larch/B_map71_co3.json")))
    assert group.e0 == larch["e0"] and abs(group.edge_step - larch["edge_step"]) < 1e-6
    assert np.allclose(group.norm, larch["norm"], atol=1e-6) and np.allclose(group.flat, larch["flat"], atol=1e-6)
    expected = json.loads(cli("xanes", "normalize", path, "--json", "--pre1", "-25", "--pre2", "-10"))
    ranged = lauemap.xanes.normalize(energy, mu, pre1=-25, pre2=-10)
    assert ranged.pre1 == -25 and ranged.edge_step == expected["edge_step"] and np.array_equal(ranged.norm, expected["norm"])


def test_load_run_gives_tables_and_maps_in_micrometres(tmp_path):
    scan = tmp_path / "s"
    cli("simulate", "scan", "--detector", "small", "--material", "LiCoO2", "--grid", "6x5", "--step-um", "0.5", "--seed", "3",
        "--out", str(scan))
    cli("scan", "run", str(scan), "--material", "LiCoO2", "--out", str(tmp_path / "r"), "--quiet")
    run = lauemap.load_run(tmp_path / "r")
    assert len(run.patterns) == 30 and set(run.patterns["class"]) <= set(
        ["no_defect", "gnd", "tilt_boundary", "tilt_boundary_gnd", "stacking_tilt_boundaries", "random_dislocations",
         "unclassified", "unindexed", "failed"])
    pd.testing.assert_frame_equal(run.patterns[["x_um", "y_um"]], pd.read_csv(tmp_path / "r" / "patterns.csv")[["x_um", "y_um"]])
    classes = run.maps["class"]
    assert classes.dims == ("y_um", "x_um") and classes.shape == (5, 6)
    assert classes.x_um.attrs["units"] == "um" and np.allclose(np.diff(classes.x_um), 0.5)
    assert "legend" in classes.attrs and run.maps["ipf_rgb"].dims == ("y_um", "x_um", "rgb")
    assert "mean_orientation_matrix" not in run.maps and run.maps["ipf_x_rgb"].shape == (5, 6, 3)
    # Each pattern's class sits in its cell.
    codes = {c.split("=")[1]: int(c.split("=")[0]) for c in classes.attrs["legend"].split(";")}
    for _, r in run.patterns.iterrows():
        assert int(classes.sel(x_um=r["x_um"], y_um=r["y_um"], method="nearest")) == codes[r["class"]]
    assert run.metadata["complete"] is True


def test_bad_input_raises_with_the_file_and_reason(tmp_path, ge_frame, ge_calib):
    # Text with a NUL would reach C cut short ("Si\0x" read as "Si"): refused.
    with pytest.raises(ValueError, match="NUL"):
        lauemap.peaks(lauemap.read_image(ge_frame), ge_calib + "\0x")
    missing = tmp_path / "nope.tif"
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.read_image(missing)
    assert e.value.kind == "unreadable" and str(missing) in str(e.value)
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"\xff" * 40)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.read_image(broken)
    assert str(broken) in str(e.value) and e.value.file == str(broken)
    frame = lauemap.read_image(ge_frame)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.peaks(frame, tmp_path / "missing.det")
    assert "missing.det" in str(e.value)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.peaks(frame[0])
    assert "2-D" in str(e.value)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.peaks(frame.astype(np.complex64))
    assert "complex" in str(e.value)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.simulate("Ge", "marccd", energy=(5, 1000))
    assert "energy" in str(e.value)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.peaks(frame, fit="spline")
    assert "fit" in str(e.value) and e.value.kind == "invalid_argument"
    table = lauemap.peaks(frame)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.index(table, ge_calib, "Unobtainium")
    assert "Unobtainium" in str(e.value)
    with pytest.raises(lauemap.LaueMapError):
        lauemap.index(table, ge_calib, "Ge", min_peaks=1)
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.simulate("LiCoO2", "medium", defect="twinning")
    assert "twinning" in str(e.value)
    with pytest.raises(lauemap.LaueMapError):
        lauemap.xanes.normalize([1, 2, 3], [1, 2])
    with pytest.raises(lauemap.LaueMapError) as e:
        lauemap.load_run(tmp_path)
    assert "patterns.csv" in str(e.value)


def test_the_gil_is_released_during_calls():
    """A Python thread keeps counting while another thread is inside a long LaueMap call (the dense
    real frame: about half a second of peak search)."""
    frame = lauemap.read_image(fixture("real/SS_0171.mccd"))
    counts = []
    done = threading.Event()

    def count():
        n = 0
        while not done.is_set():
            n += 1
        counts.append(n)

    started = time.perf_counter()
    reference = threading.Thread(target=count)
    reference.start()
    time.sleep(0.2)
    done.set()
    reference.join()
    per_second = counts[0] / (time.perf_counter() - started)

    done.clear()
    worker = threading.Thread(target=count)
    worker.start()
    started = time.perf_counter()
    lauemap.peaks(frame)
    elapsed = time.perf_counter() - started
    done.set()
    worker.join()
    # With the GIL held during the call the counter would stand still for its whole duration.
    assert elapsed > 0.1 and counts[1] > 0.2 * per_second * elapsed, (counts, per_second, elapsed)


def test_concurrent_calls_agree(ge_frame, ge_calib):
    frame = lauemap.read_image(ge_frame)
    table = lauemap.peaks(frame)
    results = [None] * 4

    def work(k):
        results[k] = lauemap.index(table, ge_calib, "Ge")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results) and results[0]["status"] == "indexed"


def test_memory_stays_bounded_with_changing_options(ge_frame):
    """A review found every new option value or frame size kept its peak searcher (about 20 MB on a
    2048² frame) for ever: 200 calls grew the process by 4 GB. The pools now keep six keys."""
    import resource

    frame = lauemap.read_image(ge_frame)
    for k in range(8):                                     # warm up to the pool's bound
        lauemap.peaks(frame, detection_sigma=4 + 0.01 * k)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss            # KiB
    for k in range(8, 48):
        lauemap.peaks(frame, detection_sigma=4 + 0.01 * k)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"{grown_mb:.0f} MB more after 40 calls with new options"
