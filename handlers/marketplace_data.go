package handlers

import "fleetprompt/store"

// packageCard is one package in a marketplace list with its install state.
type packageCard struct {
	Package store.Package
	Status  InstallStatus
}

// marketplaceData is the marketplace page.
type marketplaceData struct {
	Filter     store.PackageFilter
	Filtered   bool // any search or filter is set
	Categories []string
	Pricing    []string
	Tiers      []string
	Featured   []packageCard
	Results    []packageCard
	CanManage  bool
	OrgTier    string
	Live       liveInstalls
	Problems   []string // filters of the URL that are not the catalogue's
}
