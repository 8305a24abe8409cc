package main

type runnerOpts struct {
	n, workers int
	interrupt  bool
}
