package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// latency summarises durations, in milliseconds.
type latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// percentile is the nearest-rank percentile (0 < p ≤ 100) of sorted
// durations: the smallest value that at least p% of them do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func summarise(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latency{N: len(s), P50: ms(percentile(s, 50)), P90: ms(percentile(s, 90)), P99: ms(percentile(s, 99)),
		Max: ms(s[len(s)-1]), Mean: ms(sum / time.Duration(len(s)))}
}

// report is what the program prints.
type report struct {
	Measures          string         `json:"measures"`
	Portals           []portalCount  `json:"portals"`
	Users             int            `json:"users"`
	Concurrency       int            `json:"concurrency"`
	RequestsBound     int            `json:"requests_bound"`
	DurationBound     string         `json:"duration_bound"`
	SetupSeconds      float64        `json:"setup_s"`
	Iterations        int            `json:"iterations"`
	Finishes          int            `json:"finishes"`
	Failures          int            `json:"failures"`
	FailureKinds      map[string]int `json:"failure_kinds"`
	Resignins         int            `json:"resignins"`
	StoppedBy         string         `json:"stopped_by"`
	ElapsedSeconds    float64        `json:"elapsed_s"`
	FinishesPerSecond float64        `json:"finishes_per_s"`
	Finish            latency        `json:"finish"`
	Iteration         latency        `json:"iteration"`
	Steps             []stepLatency  `json:"steps"`
}

// stepLatency is one request of the iteration's.
type stepLatency struct {
	Step string `json:"step"`
	latency
}

const measures = "step-up by challenge/response: POST /security/stepup, GET /2fa, the phone's response, " +
	"POST /2fa/challenge (the finish), GET /security"

func newReport(o options, users int, setup time.Duration, r results) report {
	rep := report{Measures: measures, Portals: r.perPortal, Users: users, Concurrency: o.concurrency,
		RequestsBound: o.requests, DurationBound: o.duration.String(), SetupSeconds: secs(setup),
		Iterations: r.begun, Finishes: len(r.iterations), Failures: r.begun - len(r.iterations), FailureKinds: r.failures,
		Resignins: r.resignins, StoppedBy: r.stoppedBy, ElapsedSeconds: secs(r.elapsed),
		Finish: summarise(r.steps[stepFinish]), Iteration: summarise(r.iterations)}
	for i, name := range stepNames {
		rep.Steps = append(rep.Steps, stepLatency{name, summarise(r.steps[i])})
	}
	if r.elapsed > 0 {
		rep.FinishesPerSecond = math.Round(float64(rep.Finishes)/r.elapsed.Seconds()*10) / 10
	}
	return rep
}

func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1e3) / 1e3 }

func (rep report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func (rep report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "portal load: %s\n", rep.Measures)
	fmt.Fprintf(&b, "portals      %d\n", len(rep.Portals))
	for _, p := range rep.Portals {
		fmt.Fprintf(&b, "  %s: %d users, %d finishes, %d failures\n", p.URL, p.Users, p.Finishes, p.Failures)
	}
	fmt.Fprintf(&b, "users        %d (set up in %.3f s)\n", rep.Users, rep.SetupSeconds)
	fmt.Fprintf(&b, "concurrency  %d\n", rep.Concurrency)
	fmt.Fprintf(&b, "bounds       %d iterations or %s; stopped by %s\n", rep.RequestsBound, rep.DurationBound, rep.StoppedBy)
	fmt.Fprintf(&b, "iterations   %d: %d finishes, %d failures\n", rep.Iterations, rep.Finishes, rep.Failures)
	fmt.Fprintf(&b, "elapsed      %.3f s\n", rep.ElapsedSeconds)
	fmt.Fprintf(&b, "finishes/s   %.1f\n", rep.FinishesPerSecond)
	if rep.Resignins > 0 {
		fmt.Fprintf(&b, "re-sign-ins  %d (sessions lost after a request that got no answer)\n", rep.Resignins)
	}
	b.WriteString("latency, ms (successful iterations)\n")
	row := func(name string, l latency) {
		fmt.Fprintf(&b, "  %-16s %7d %8.2f %8.2f %8.2f %8.2f %8.2f\n", name, l.N, l.P50, l.P90, l.P99, l.Max, l.Mean)
	}
	fmt.Fprintf(&b, "  %-16s %7s %8s %8s %8s %8s %8s\n", "", "n", "p50", "p90", "p99", "max", "mean")
	row("finish", rep.Finish)
	row("iteration", rep.Iteration)
	b.WriteString("  each request of the iteration:\n")
	for _, s := range rep.Steps {
		row(s.Step, s.latency)
	}
	if len(rep.FailureKinds) == 0 {
		b.WriteString("failures     none\n")
	} else {
		b.WriteString("failures by kind\n")
		type kc struct {
			kind string
			n    int
		}
		var kinds []kc
		for k, n := range rep.FailureKinds {
			kinds = append(kinds, kc{k, n})
		}
		slices.SortFunc(kinds, func(a, b kc) int { return cmp.Or(b.n-a.n, strings.Compare(a.kind, b.kind)) })
		for _, k := range kinds {
			fmt.Fprintf(&b, "  %6d  %s\n", k.n, k.kind)
		}
		for _, k := range kinds {
			if strings.Contains(k.kind, "Too many challenges") {
				b.WriteString("  (keyline's per-user challenge budget: run the portal with -challenges-per-minute 100, and more users)\n")
				break
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
