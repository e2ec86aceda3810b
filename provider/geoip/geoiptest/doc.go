// Package geoiptest writes small MaxMind City databases for tests, with
// github.com/maxmind/mmdbwriter, in the layout GeoLite2 City uses (city
// and country, each with names by language and the country's ISO code).
// Nothing is downloaded: each test writes the networks it needs.
package geoiptest
