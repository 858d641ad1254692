package mediacore

import (
	"slices"
	"strings"
)

// Reach across nodes. An agent's phone registers on one node (the native
// registrar, a FreeSWITCH directory user, an Asterisk PJSIP endpoint), but
// the controller rings it near the caller, on the caller's node, since
// channels of two nodes never share a bridge. A node dials "user/NAME"
// only among its own registrations, so Core remembers the contacts every
// node reports (EventEndpointRegistered/Unregistered) and, when the node
// chosen for an originate has no registration of the user while another
// node has, dials the phone's registered contact from the chosen node as a
// sip: URI. Phones accept a call from a node they are not registered to
// (loopback or a flat network; a phone behind NAT that only answers its
// registrar is out of reach this way). A user no node has reported
// registered is left to the chosen node, which may know it otherwise
// (static users, registrations older than its connection).

// registrations holds the registered contacts of each endpoint per node:
// endpoint ("user/1001") -> node name -> contact URIs. Guarded by Core.mu.
type registrations map[string]map[string][]string

// observeRegistration updates the table from an endpoint event. c.mu must
// be held.
func (c *Core) observeRegistration(ev Event) {
	if ev.Endpoint == "" || ev.Node == "" {
		return
	}
	if c.regs == nil {
		c.regs = registrations{}
	}
	byNode := c.regs[ev.Endpoint]
	switch ev.Type {
	case EventEndpointRegistered:
		if byNode == nil {
			byNode = map[string][]string{}
			c.regs[ev.Endpoint] = byNode
		}
		if ev.Contact == "" {
			// Registered without a contact we could dial: the node
			// still counts as holding the user.
			byNode[ev.Node] = append(byNode[ev.Node], "")
			return
		}
		if !slices.Contains(byNode[ev.Node], ev.Contact) {
			byNode[ev.Node] = append(byNode[ev.Node], ev.Contact)
		}
	case EventEndpointUnregistered:
		if byNode == nil {
			return
		}
		// An unregistration without a contact ends all of the node's.
		if ev.Contact == "" {
			delete(byNode, ev.Node)
		} else {
			byNode[ev.Node] = slices.DeleteFunc(byNode[ev.Node], func(s string) bool { return s == ev.Contact || s == "" })
			if len(byNode[ev.Node]) == 0 {
				delete(byNode, ev.Node)
			}
		}
		if len(byNode) == 0 {
			delete(c.regs, ev.Endpoint)
		}
	}
}

// reachFrom returns the endpoint node n should dial for endpoint: a
// user/ endpoint registered only on other nodes becomes the sip: URI of
// its first registered contact (nodes in configuration order); anything
// else is returned unchanged.
func (c *Core) reachFrom(n *node, endpoint string) string {
	if !strings.HasPrefix(endpoint, "user/") {
		return endpoint
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	byNode := c.regs[endpoint]
	if len(byNode) == 0 || len(byNode[n.name]) > 0 {
		return endpoint
	}
	for _, other := range c.nodes {
		for _, contact := range byNode[other.name] {
			if uri, ok := contactURI(contact); ok {
				c.log.Info("user registered on another node: dialling its contact", "endpoint", endpoint,
					"node", n.name, "registered_on", other.name, "contact", uri)
				return uri
			}
		}
	}
	return endpoint
}

// contactURI turns a registered contact (a bare URI, or a Contact header
// value such as `"1001" <sip:1001@127.0.0.1:5062;transport=udp;ob>`) into
// a sip: endpoint that passes ParseEndpoint: user, host and port, and the
// transport parameter when it is udp or tcp; other parameters are dropped.
func contactURI(contact string) (string, bool) {
	i := strings.Index(contact, "sip:")
	if i < 0 {
		return "", false
	}
	s := contact[i:]
	if j := strings.IndexAny(s, "> \t\""); j >= 0 {
		s = s[:j]
	}
	base, params, _ := strings.Cut(s, ";")
	uri := base
	for _, p := range strings.Split(params, ";") {
		if t := strings.ToLower(p); t == "transport=udp" || t == "transport=tcp" {
			uri += ";" + t
			break
		}
	}
	if _, err := ParseEndpoint(uri); err != nil {
		return "", false
	}
	return uri, true
}
