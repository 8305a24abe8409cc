package handlers

import (
	"time"

	"fleetprompt/store"
)

type apiPackage struct {
	Slug         string  `json:"slug"`
	Name         string  `json:"name"`
	Version      string  `json:"version"`
	Description  string  `json:"description"`
	Category     string  `json:"category"`
	Author       string  `json:"author"`
	PricingModel string  `json:"pricing_model"`
	MinTier      string  `json:"min_tier"`
	Featured     bool    `json:"featured"`
	Verified     bool    `json:"verified"`
	InstallCount int64   `json:"install_count"`
	RatingAvg    float64 `json:"rating_avg"`
	RatingCount  int     `json:"rating_count"`
}

func toAPIPackage(p store.Package) apiPackage {
	return apiPackage{Slug: p.Slug, Name: p.Name, Version: p.Version, Description: p.Description, Category: p.Category,
		Author: p.Author, PricingModel: p.PricingModel, MinTier: p.MinTier, Featured: p.IsFeatured, Verified: p.IsVerified,
		InstallCount: p.InstallCount, RatingAvg: p.RatingAvg, RatingCount: p.RatingCount}
}

type apiInstallation struct {
	ID             string     `json:"id"`
	PackageSlug    string     `json:"package_slug"`
	PackageName    string     `json:"package_name"`
	PackageVersion string     `json:"package_version"`
	Status         string     `json:"status"`
	Enabled        bool       `json:"enabled"`
	InstalledAt    *time.Time `json:"installed_at"`
	LastError      *string    `json:"last_error"`
}

func toAPIInstallation(i store.Installation) apiInstallation {
	return apiInstallation{ID: i.ID, PackageSlug: i.PackageSlug, PackageName: i.PackageName, PackageVersion: i.PackageVersion,
		Status: i.Status, Enabled: i.Enabled, InstalledAt: timePtr(i.InstalledAt), LastError: strPtr(i.LastError)}
}
