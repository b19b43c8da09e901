package deploy

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/internal/labtest"
)

const prometheusRuleFile = "kubernetes/prometheusrule.yaml"

const prometheusRuleHeader = `# Generated from deploy/prometheus/alerts.yml by "go test ./deploy -update".
# Do not edit: edit alerts.yml and regenerate.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: spnaudit
  labels:
    app.kubernetes.io/name: spnaudit
spec:
`

// generatePrometheusRule wraps alerts.yml, comments included, as the spec of a
// PrometheusRule: the file's leading comment block is dropped and every line
// indented by two spaces, which keeps block scalars valid.
func generatePrometheusRule(alerts []byte) []byte {
	lines := strings.Split(strings.TrimRight(string(alerts), "\n"), "\n")
	for len(lines) > 0 && (strings.HasPrefix(lines[0], "#") || strings.TrimSpace(lines[0]) == "") {
		lines = lines[1:]
	}
	var b strings.Builder
	b.WriteString(prometheusRuleHeader)
	for _, line := range lines {
		if line != "" {
			b.WriteString("  ")
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func TestPrometheusRuleIsGeneratedFromAlerts(t *testing.T) {
	alerts := readFile(t, alertsFile)
	want := generatePrometheusRule(alerts)
	if *update {
		if err := os.WriteFile(prometheusRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readFile(t, prometheusRuleFile)
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not generated from %s: run go test ./deploy -update", prometheusRuleFile, alertsFile)
	}
	// Independently of the text: the same groups and rules.
	var rule struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Spec       ruleFile `yaml:"spec"`
	}
	if err := yaml.Unmarshal(got, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Kind != "PrometheusRule" || rule.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("kind %q apiVersion %q", rule.Kind, rule.APIVersion)
	}
	if !reflect.DeepEqual(rule.Spec, loadAlerts(t)) {
		t.Errorf("%s spec differs from %s", prometheusRuleFile, alertsFile)
	}
}

type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"` // ConfigMap
	Spec struct {
		Selector map[string]any `yaml:"selector"`
		Template struct {       // Deployment
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct { // Service
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Endpoints []struct { // ServiceMonitor
			Port     string `yaml:"port"`
			Path     string `yaml:"path"`
			Interval string `yaml:"interval"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe struct {
			HTTPGet struct {
				Path string `yaml:"path"`
			} `yaml:"httpGet"`
		} `yaml:"readinessProbe"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// loadManifests returns the objects of every resource the kustomization lists.
func loadManifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	var kustomization struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(readFile(t, "kubernetes/kustomization.yaml"), &kustomization); err != nil {
		t.Fatal(err)
	}
	objects := map[string]k8sObject{}
	for _, res := range kustomization.Resources {
		var obj k8sObject
		if err := yaml.Unmarshal(readFile(t, filepath.Join("kubernetes", res)), &obj); err != nil {
			t.Fatalf("%s: %v", res, err)
		}
		objects[obj.Kind] = obj
	}
	for _, kind := range []string{"ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule", "PersistentVolumeClaim"} {
		if _, ok := objects[kind]; !ok {
			t.Fatalf("kustomization has no %s", kind)
		}
	}
	return objects
}

// The manifests fit together: the keytab Secret is mounted read-only where the
// config expects it, ports and selectors agree, and nothing runs as root.
func TestKubernetesManifestsFitTogether(t *testing.T) {
	objs := loadManifests(t)
	dep, svc, sm, cm := objs["Deployment"], objs["Service"], objs["ServiceMonitor"], objs["ConfigMap"]
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	var config struct {
		Kerberos struct {
			Keytab string `yaml:"keytab"`
		} `yaml:"kerberos"`
		Scan struct {
			PollInterval string `yaml:"poll_interval"`
		} `yaml:"scan"`
		Web struct {
			ListenAddress string `yaml:"listen_address"`
		} `yaml:"web"`
		State struct {
			Dir string `yaml:"dir"`
		} `yaml:"state"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["config.yml"]), &config); err != nil {
		t.Fatalf("config.yml: %v", err)
	}

	volumes := map[string]string{} // volume name -> ConfigMap or Secret name
	for _, v := range pod.Volumes {
		switch {
		case v.Secret != nil:
			volumes[v.Name] = "secret/" + v.Secret.SecretName
		case v.ConfigMap != nil:
			volumes[v.Name] = "configmap/" + v.ConfigMap.Name
		case v.PersistentVolumeClaim != nil:
			volumes[v.Name] = "pvc/" + v.PersistentVolumeClaim.ClaimName
		}
	}
	keytabMounted, configMounted, stateMounted := false, false, false
	for _, m := range c.VolumeMounts {
		if volumes[m.Name] == "pvc/"+objs["PersistentVolumeClaim"].Metadata.Name {
			// state.dir: the one writable mount, on the claim that keeps it.
			stateMounted = m.MountPath == config.State.Dir && !m.ReadOnly
			continue
		}
		if !m.ReadOnly {
			t.Errorf("volume mount %s is not read-only", m.MountPath)
		}
		switch volumes[m.Name] {
		case "secret/spnaudit-keytab":
			keytabMounted = path.Dir(config.Kerberos.Keytab) == m.MountPath
		case "configmap/" + cm.Metadata.Name:
			if m.SubPath == "config.yml" {
				configMounted = strings.Join(c.Args, " ") == "serve --config "+m.MountPath
			}
		}
	}
	if !keytabMounted {
		t.Errorf("the spnaudit-keytab Secret is not mounted where kerberos.keytab (%s) points", config.Kerberos.Keytab)
	}
	if !configMounted {
		t.Errorf("args %q do not point at the mounted config.yml", c.Args)
	}
	if !stateMounted {
		t.Errorf("state.dir %q is not a writable mount of the PersistentVolumeClaim", config.State.Dir)
	}
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
		t.Error("pod may run as root")
	}
	if p := c.SecurityContext.AllowPrivilegeEscalation; p == nil || *p || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("container allows privilege escalation or a writable root file system")
	}
	if c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
		t.Errorf("readiness probe %q, want /-/ready", c.ReadinessProbe.HTTPGet.Path)
	}

	if len(c.Ports) != 1 || !strings.HasSuffix(config.Web.ListenAddress, ":"+strconv.Itoa(c.Ports[0].ContainerPort)) {
		t.Fatalf("container ports %+v do not match web.listen_address %q", c.Ports, config.Web.ListenAddress)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name {
		t.Errorf("service ports %+v do not target container port %s", svc.Spec.Ports, c.Ports[0].Name)
	}
	podLabels := dep.Spec.Template.Metadata.Labels
	if !reflect.DeepEqual(selectorLabels(dep.Spec.Selector), podLabels) {
		t.Error("deployment selector does not match its pod labels")
	}
	if !reflect.DeepEqual(selectorLabels(svc.Spec.Selector), podLabels) {
		t.Error("service selector does not match the pod labels")
	}
	for k, v := range selectorLabels(sm.Spec.Selector) {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
	// SPNAuditDown matches job="spnaudit", the Service's name; the alert
	// thresholds assume 15s polls and scrapes.
	if svc.Metadata.Name != "spnaudit" {
		t.Errorf("service name %q: SPNAuditDown expects job spnaudit", svc.Metadata.Name)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name ||
		sm.Spec.Endpoints[0].Path != "/metrics" || sm.Spec.Endpoints[0].Interval != "15s" {
		t.Errorf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
	}
	if config.Scan.PollInterval != "15s" {
		t.Errorf("scan.poll_interval %q: SPNAuditStale assumes 15s", config.Scan.PollInterval)
	}
}

// selectorLabels reads a Service selector (a plain map) or a Deployment or
// ServiceMonitor selector (matchLabels).
func selectorLabels(sel map[string]any) map[string]string {
	if inner, ok := sel["matchLabels"].(map[string]any); ok {
		sel = inner
	}
	out := map[string]string{}
	for k, v := range sel {
		out[k], _ = v.(string)
	}
	return out
}

// kubectl kustomize builds the kustomization offline, as kubectl apply -k
// would. kubectl is optional tooling, so its absence only skips.
func TestKustomizationBuilds(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		labtest.Unavailable(t, "kubectl is not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, kubectl, "kustomize", "kubernetes").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	for _, kind := range []string{"ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"} {
		if !bytes.Contains(out, []byte("kind: "+kind+"\n")) {
			t.Errorf("kustomize output lacks a %s", kind)
		}
	}
}

// The ConfigMap's config.yml passes spnaudit's own validation once the files
// it names exist (here: a keytab header and a krb5.conf in a temp dir).
func TestKubernetesConfigIsValid(t *testing.T) {
	cm := loadManifests(t)["ConfigMap"]
	dir := t.TempDir()
	keytab, krb5conf := filepath.Join(dir, "spnaudit.keytab"), filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(keytab, []byte{0x05, 0x02}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(krb5conf, []byte(cm.Data["krb5.conf"]), 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"/etc/spnaudit/keytab/spnaudit.keytab", keytab,
		"/etc/spnaudit/krb5.conf", krb5conf,
	).Replace(cm.Data["config.yml"])
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(config.Options{File: path}); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			t.Errorf("config.yml is invalid:\n%s", strings.Join(ps.Lines(), "\n"))
		} else {
			t.Errorf("config.yml: %v", err)
		}
	}
}
