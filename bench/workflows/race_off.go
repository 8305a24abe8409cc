//go:build !race

package main

// raceBuild says this program (or test) was built with -race.
const raceBuild = false
