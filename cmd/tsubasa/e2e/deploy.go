package e2e

import (
	"fmt"
	"testing"
)

// Deployment is how a scenario's server is started, so that one scenario
// plays against each deployment of Tsubasa: the attack suite's shared
// scenarios take one, and the replicas suite plays them through a
// cluster.
type Deployment struct {
	// Replicas is how many processes share one PostgreSQL database behind
	// a cluster's round-robin proxy (StartCluster); 0 for one process on a
	// bbolt file (Start).
	Replicas int
}

var (
	// OneServer is one process on a bbolt file.
	OneServer = Deployment{}
	// ThreeReplicas is three replicas on one PostgreSQL database behind a
	// proxy without stickiness.
	ThreeReplicas = Deployment{Replicas: DefaultReplicas}
)

// Start starts the deployment with o and stops it when the test ends.
func (d Deployment) Start(t *testing.T, o Options) *Server {
	t.Helper()
	if d.Replicas > 0 {
		return StartCluster(t, o, d.Replicas).Server
	}
	return Start(t, o)
}

// StartWithMember is Start, then the test member (MemberNumber) created
// through the CLI.
func (d Deployment) StartWithMember(t *testing.T, o Options) *Server {
	t.Helper()
	s := d.Start(t, o)
	CreateTestMember(t, s)
	return s
}

func (d Deployment) String() string {
	if d.Replicas > 0 {
		return fmt.Sprintf("%d replicas on PostgreSQL", d.Replicas)
	}
	return "one server on bbolt"
}
