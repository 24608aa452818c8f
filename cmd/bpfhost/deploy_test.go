package main

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeployManifest checks that the DaemonSet runs the daemon with flags
// it has.
func TestDeployManifest(t *testing.T) {
	b, err := os.ReadFile("../../deploy/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args []string `yaml:"args"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	cs := ds.Spec.Template.Spec.Containers
	if len(cs) != 1 || len(cs[0].Args) == 0 || cs[0].Args[0] != "daemon" {
		t.Fatalf("containers %+v: want one running \"bpfhost daemon\"", cs)
	}
	cmd := newDaemonCommand()
	if err := cmd.ParseFlags(cs[0].Args[1:]); err != nil {
		t.Fatalf("the manifest's arguments: %v", err)
	}
	if len(cmd.Flags().Args()) != 0 {
		t.Fatalf("the manifest passes positional arguments %v", cmd.Flags().Args())
	}
}
