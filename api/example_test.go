package api_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"hotline/api"
	"hotline/controller"
	"hotline/controller/store/memstore"
)

// The daemon builds the controller over its store and the server over the
// controller, makes sure the bootstrap token exists, and serves Handler; a
// script then calls the API with it.
func Example() {
	st := memstore.New(nil) // the daemon passes its SQLite or PostgreSQL store
	ctl, err := controller.New(context.Background(), controller.Options{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	defer ctl.Close()
	srv, err := api.New(api.Options{Controller: ctl, Version: "example"})
	if err != nil {
		log.Fatal(err)
	}
	if err := api.EnsureBootstrapToken(context.Background(), ctl, "my-bootstrap-secret", time.Now()); err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	post := func(body string) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/queues", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer my-bootstrap-secret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var msg strings.Builder
		if resp.StatusCode != http.StatusCreated {
			buf := make([]byte, 512)
			n, _ := resp.Body.Read(buf)
			msg.Write(buf[:n])
		}
		fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("ETag"), " ", strings.TrimSpace(msg.String()))))
	}
	post(`{"name":"support"}`)
	post(`{"name":"sales","ring_timeout":1}`)
	// Output:
	// 201 "1"
	// 400  {"error":{"code":"invalid_value","message":"must be from 5 to 300","field":"ring_timeout"}}
}
