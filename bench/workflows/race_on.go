//go:build race

package main

// raceBuild says this program (or test) was built with -race: the app
// binary it runs is built the same way, so the build cache serves it.
const raceBuild = true
