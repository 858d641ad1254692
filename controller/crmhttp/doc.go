// Package crmhttp is the HTTP lookup of a caller in a customer's CRM for
// screen pop (R4.4, R10.3): a GET to a URL template holding ${caller},
// with a timeout, whose JSON answer is mapped onto a controller.Customer.
// It implements controller.Directory and is meant as
// controller.StoreDirectory's CRM, which falls back to the built-in
// contacts when the CRM fails or finds nothing.
//
// It imports net/http (that is why it is not in package controller),
// hotline/controller (the Customer type) and the standard library; it must
// not import the api or the store implementations.
package crmhttp
