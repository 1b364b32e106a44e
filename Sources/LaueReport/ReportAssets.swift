/// The style sheet, the pattern-view markup and the script of the report page (no external resource).
enum ReportAssets {
    static let css = """
    body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:1.5em;color:#222;max-width:1400px}
    h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
    table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
    table.fractions td{text-align:right}table.fractions td:first-child{text-align:left}
    .swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;border:1px solid #555;vertical-align:middle}
    .explorer{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
    .cellmap{border:1px solid #333;cursor:pointer}.cellmap rect.cell:hover{stroke:#000;stroke-width:1.5}
    .cellmap rect.selected{stroke:#d00;stroke-width:2.5}
    ul.legend{list-style:none;padding:0;font-size:.85em}.hint{font-size:.85em;color:#555}
    .pattern-view{min-width:560px;max-width:760px}.pattern-view dl{display:grid;grid-template-columns:max-content auto;gap:.15em .8em;font-size:.9em}
    .pattern-view dt{font-weight:bold}.pattern-view dd{margin:0}
    .frame svg{background:#000;border:1px solid #333;image-rendering:pixelated}
    .crops{display:flex;gap:.8em;flex-wrap:wrap}.crops figure{margin:0;font-size:.8em}.crops svg{background:#000;image-rendering:pixelated}
    .figures{display:flex;flex-wrap:wrap;gap:1em}.figure{margin:0}.summary{background:#f6f6f6;padding:.6em;overflow:auto}
    .empty{color:#777;font-style:italic}
    """

    /// The pattern view of a run section (filled by the script).
    static let patternView = """
    <div class="pattern-view"><h3>Pattern</h3><p class="empty pv-none">No cell selected.</p>
    <dl><dt>file</dt><dd class="pv-file"></dd><dt>position</dt><dd class="pv-position"></dd><dt>class</dt><dd class="pv-class"></dd>
    <dt>confidence</dt><dd class="pv-confidence"></dd><dt>axis</dt><dd class="pv-axis"></dd><dt>reason</dt><dd class="pv-reason"></dd>
    <dt>peaks found</dt><dd class="pv-peaks"></dd><dt>indexed spots</dt><dd class="pv-spots"></dd><dt>spread, tilt, extent</dt><dd class="pv-angles"></dd></dl>
    <div class="frame"></div><p class="pv-key hint">Circles: measured spots (indexed); crosses: predicted positions; orange: measured streak; magenta dots (crops): sub-peaks.</p>
    <div class="crops"></div></div>
    """

    static let script = """
    (function(){
    const NS = "http://www.w3.org/2000/svg";
    function el(name, attrs, parent){ const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; }
    function fmt(v, d){ return v === null || v === undefined ? "–" : Number(v).toFixed(d); }
    function hkl(s){ return "(" + s[4] + " " + s[5] + " " + s[6] + ")"; }
    // Spots in frame pixel-edge coordinates: LaueTools' first pixel centre (1, 1) is at (0.5, 0.5).
    function drawSpot(svg, s, r){
      el("circle", {cx: s[0] - 0.5, cy: s[1] - 0.5, r: r, fill: "none", stroke: "#ffffff", "stroke-width": r / 4, class: "spot"}, svg);
      if (s[2] !== null) { const x = s[2] - 0.5, y = s[3] - 0.5, d = r * 0.8;
        el("path", {d: "M" + (x - d) + " " + y + "H" + (x + d) + "M" + x + " " + (y - d) + "V" + (y + d), stroke: "#56b4e9", "stroke-width": r / 4, class: "predicted"}, svg); }
    }
    function drawStreak(svg, s, w){
      if (s[7] === null || s[8] === null || !(s[7] > 0)) return;
      const a = s[8] * Math.PI / 180, l = s[7] / 2, x = s[0] - 0.5, y = s[1] - 0.5;
      el("line", {x1: x - l * Math.cos(a), y1: y - l * Math.sin(a), x2: x + l * Math.cos(a), y2: y + l * Math.sin(a), stroke: "#e69f00", "stroke-width": w, class: "streak"}, svg);
    }
    // Sub-peaks: small magenta discs along the major axis at their offsets from the spot's centre.
    function drawSubpeaks(svg, s, r){
      if (!s[11] || s[11].length < 2 || s[8] === null) return;
      const a = s[8] * Math.PI / 180, x = s[0] - 0.5, y = s[1] - 0.5;
      for (const d of s[11]) el("circle", {cx: x + d * Math.cos(a), cy: y + d * Math.sin(a), r: r, fill: "#cc79a7", stroke: "#ffffff", "stroke-width": r / 3, class: "subpeak"}, svg);
    }
    function show(section, p){
      const run = RUNS[+section.dataset.run], rec = run.patterns[p], view = section.querySelector(".pattern-view");
      section.querySelectorAll("rect.selected").forEach(r => r.classList.remove("selected"));
      const rect = section.querySelector('rect.cell[data-p="' + p + '"]'); if (rect) rect.classList.add("selected");
      const spots = run.spots[rec[13]] || [], image = run.images[rec[13]];
      const set = (c, t) => { view.querySelector(c).textContent = t; };
      view.querySelector(".pv-none").style.display = "none";
      set(".pv-file", rec[0]); set(".pv-position", fmt(rec[7], 3) + ", " + fmt(rec[8], 3) + " µm");
      set(".pv-class", rec[1]); set(".pv-confidence", fmt(rec[2], 2)); set(".pv-axis", rec[5] || "–");
      set(".pv-reason", rec[6] || "–"); set(".pv-peaks", rec[3] === null ? "–" : rec[3]); set(".pv-spots", run.spots[rec[13]] !== undefined || image ? String(spots.length) : (rec[4] === null ? "–" : String(rec[4])));
      set(".pv-angles", fmt(rec[10], 3) + "°, " + fmt(rec[11], 3) + "°, " + fmt(rec[12], 3) + "°");
      const frame = view.querySelector(".frame"), crops = view.querySelector(".crops");
      frame.textContent = ""; crops.textContent = "";
      let w = 0, h = 0;
      if (image) { w = image.w; h = image.h; }
      else { for (const s of spots) { w = Math.max(w, s[0] + 10); h = Math.max(h, s[1] + 10); } }
      if (w > 0) {
        const size = 420, scale = size / Math.max(w, h);
        const svg = el("svg", {width: Math.round(w * scale), height: Math.round(h * scale), viewBox: "0 0 " + w + " " + h}, frame);
        if (image) el("image", {href: image.thumb, x: 0, y: 0, width: image.tw, height: image.th, preserveAspectRatio: "none"}, svg);
        const r = Math.max(w, h) / 90;
        for (const s of spots) { drawStreak(svg, s, r / 3); drawSpot(svg, s, r); }
      }
      if (!image) { const n = document.createElement("p"); n.className = "empty pv-noframe";
        n.textContent = spots.length ? "Frame not embedded: spots only." : "Frame and spots not embedded (lauemap report --frames; or the scan's frames could not be read)."; frame.appendChild(n); }
      else for (const c of image.crops) {
        const f = document.createElement("figure"), s = c.spot, z = image.size;
        const svg = el("svg", {width: z * 3, height: z * 3, viewBox: c.x0 + " " + c.y0 + " " + z + " " + z}, f);
        el("image", {href: c.img, x: c.x0, y: c.y0, width: z, height: z}, svg);
        drawStreak(svg, s, 0.35); drawSpot(svg, s, 1.2); drawSubpeaks(svg, s, 0.9);
        const cap = document.createElement("figcaption");
        cap.textContent = hkl(s) + ": streak " + fmt(s[7], 1) + " px at " + fmt(s[8], 0) + "°, " + s[9] + " sub-peak" + (s[9] === 1 ? "" : "s") + (s[10] ? ", " + s[10] : "");
        f.appendChild(cap); crops.appendChild(f);
      }
    }
    document.querySelectorAll("section.run").forEach(section => {
      section.querySelector(".cellmap").addEventListener("click", e => {
        const t = e.target.closest("rect.cell"); if (t) show(section, +t.dataset.p);
      });
    });
    })();
    """
}
