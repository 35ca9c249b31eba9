package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// series is one named line of a plot.
type series struct {
	name string
	xys  plotter.XYs
	goal bool // a dashed horizontal goal line
}

func newPlot(title, x, y string, logX, logY bool, lines ...series) (*plot.Plot, error) {
	p := plot.New()
	p.Legend.Left = logX // rising curves: keep the legend off their top-right end
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	c := 0
	for _, s := range lines {
		if len(s.xys) == 0 {
			continue
		}
		if s.goal {
			l, err := plotter.NewLine(s.xys)
			if err != nil {
				return nil, err
			}
			l.Color = color.Gray{Y: 0x60}
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			p.Legend.Add(s.name, l)
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return nil, err
		}
		l.Color = palette[c%len(palette)]
		l.Width = vg.Points(1.5)
		pts.Color = l.Color
		pts.Shape = draw.CircleGlyph{}
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
		c++
	}
	return p, nil
}

// grid draws plots (rows of columns) into one PNG.
func grid(path string, plots [][]*plot.Plot) error {
	rows, cols := len(plots), len(plots[0])
	img := vgimg.New(vg.Points(float64(420*cols)), vg.Points(float64(300*rows)))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j := range plots[i] {
			if plots[i][j] != nil {
				plots[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func indexed(xs []float64) plotter.XYs {
	out := make(plotter.XYs, len(xs))
	for i, x := range xs {
		out[i] = plotter.XY{X: float64(i + 1), Y: x}
	}
	return out
}

func goalLine(name string, n int, y float64) series {
	return series{name: name, goal: true, xys: plotter.XYs{{X: 1, Y: y}, {X: float64(max(n, 2)), Y: y}}}
}

// plot writes the benchmark's figures into dir and returns their paths.
func (r *results) plot(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	must := func(p *plot.Plot, err error) *plot.Plot {
		if err != nil {
			panic(err)
		}
		return p
	}
	var perr error
	func() {
		defer func() {
			if v := recover(); v != nil {
				perr = fmt.Errorf("%v", v)
			}
		}()
		if r.hop != nil && r.tp != nil && r.chain != nil {
			hn, tn := len(r.hop.pairs), len(r.tp.pairs)
			var rates []series
			for _, s := range r.sides {
				var xs []float64
				for _, p := range r.tp.pairs {
					xs = append(xs, p[s].rate())
				}
				rates = append(rates, series{name: s, xys: indexed(xs)})
			}
			plots := [][]*plot.Plot{{
				must(newPlot("callback hop ratio per ABBA pair", "pair", "ours / other (median hop)", false, false,
					series{name: "ours / native DAG", xys: indexed(hopRatios(r.hop.pairs, sideOurs, sideNative))},
					series{name: "ours / fair", xys: indexed(hopRatios(r.hop.pairs, sideOurs, sideFair))},
					series{name: "ours / lean trigger", xys: indexed(hopRatios(r.hop.pairs, sideOurs, sideTrigger))},
					goalLine("goal vs native (0.8)", hn, 0.8), goalLine("goal vs fair (1.0)", hn, 1.0))),
				must(newPlot("throughput ratio per ABBA pair", "pair", "ours / other (runs/s)", false, false,
					series{name: "ours / native DAG", xys: indexed(tpRatios(r.tp.pairs, sideOurs, sideNative))},
					series{name: "ours / fair", xys: indexed(tpRatios(r.tp.pairs, sideOurs, sideFair))},
					series{name: "ours / lean trigger", xys: indexed(tpRatios(r.tp.pairs, sideOurs, sideTrigger))},
					goalLine("goal vs native (0.9)", tn, 0.9), goalLine("goal vs fair (0.95)", tn, 0.95))),
			}, {
				must(newPlot("throughput per pair (drift as the database grows)", "pair", "runs/s", false, false, rates...)),
				must(newPlot(fmt.Sprintf("%d-step chain: hop ratio per pair", r.chain.steps), "pair", "ours / native (median step hop)", false, false,
					series{name: "chain / native DAG", xys: indexed(r.chain.ratios())},
					goalLine("goal (1.0)", len(r.chain.pairs), 1.0))),
			}}
			path := filepath.Join(dir, "bench-ratios.png")
			if err := grid(path, plots); err != nil {
				panic(err)
			}
			files = append(files, path)
		}
		curve := func(file, what string, pts []costPoint, logX bool, batch []batchPoint) {
			if len(pts) == 0 {
				return
			}
			var tms, calls, bytes, rtt, runRTT, perRun, bulk, bulkCalls plotter.XYs
			for _, p := range batch {
				x := float64(p.size)
				perRun = append(perRun, plotter.XY{X: x, Y: max(0.1, float64(p.perRun)/1e6)})
				bulk = append(bulk, plotter.XY{X: x, Y: max(0.1, float64(p.bulk)/1e6)})
				bulkCalls = append(bulkCalls, plotter.XY{X: x, Y: float64(p.bulkCalls)})
			}
			for _, p := range pts {
				x := float64(p.size)
				tms = append(tms, plotter.XY{X: x, Y: max(0.1, float64(p.lastStart)/1e6)})
				calls = append(calls, plotter.XY{X: x, Y: float64(p.calls)})
				bytes = append(bytes, plotter.XY{X: x, Y: float64(p.saveBytes) / 1024})
				rtt = append(rtt, plotter.XY{X: x, Y: float64(p.saveRTT)})
				runRTT = append(runRTT, plotter.XY{X: x, Y: float64(p.runRTT)})
			}
			plots := [][]*plot.Plot{{
				must(newPlot("root fn end → last callback fn start", what, "ms", logX, logX, series{name: "hatchetflow", xys: tms},
					series{name: "ref: N RunNoWait, from trigger", xys: perRun}, series{name: "ref: BulkTriggerWorkflow, from trigger", xys: bulk})),
				must(newPlot("engine trigger calls per run", what, "calls", logX, logX, series{name: "hatchetflow dispatcher calls", xys: calls},
					series{name: "ref: BulkTriggerWorkflow calls", xys: bulkCalls})),
			}, {
				must(newPlot("Redis memory of the saved tree", what, "KiB (record + kwargs hashes)", logX, logX, series{name: "MEMORY USAGE", xys: bytes})),
				must(newPlot("Redis round trips", what, "round trips", logX, logX,
					series{name: "Save", xys: rtt}, series{name: "whole run", xys: runRTT})),
			}}
			path := filepath.Join(dir, file)
			if err := grid(path, plots); err != nil {
				panic(err)
			}
			files = append(files, path)
		}
		curve("bench-fanout.png", "success callbacks of one task", r.fanout, true, r.batch)
		curve("bench-depth.png", "depth (nested success callbacks)", r.depth, false, nil)
	}()
	return files, perr
}
