package hatchetflow

// Version is this release of hatchetflow (semantic versioning; CHANGELOG.md lists what
// each release changed). The inspector command prints it (`hatchetflow version`).
const Version = "0.9.0"
