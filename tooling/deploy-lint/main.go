// deploy-lint checks the files under deploy/ with the libraries the real tools use:
//
//	deploy-lint k8s FILE.yaml...   every YAML document is decoded strictly into its
//	                               k8s.io/api type (chosen by apiVersion + kind): an unknown
//	                               field, a wrong type, a duplicate key or a bad quantity
//	                               fails, as `kubectl apply --validate=strict` would refuse it.
//	deploy-lint compose FILE.yaml  loads the file with compose-go (the loader of `docker
//	                               compose`): Compose-spec JSON schema, interpolation and
//	                               the consistency checks (depends_on, networks, volumes).
//
// Problems go to stdout as `file: message`, one per line; the exit code is 1 when there
// was any, 2 on a bad command line. Nothing here talks to a cluster or a container engine.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: deploy-lint k8s FILE.yaml... | deploy-lint compose FILE.yaml")
		os.Exit(2)
	}
	var problems []string
	switch os.Args[1] {
	case "k8s":
		for _, file := range os.Args[2:] {
			problems = append(problems, lintK8sFile(file)...)
		}
	case "compose":
		for _, file := range os.Args[2:] {
			problems = append(problems, lintCompose(file)...)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q: use k8s or compose\n", os.Args[1])
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// The kinds deploy/k8s may hold. A manifest of any other kind is a problem: it would go
// to the cluster unchecked.
func newObject(apiVersion, kind string) (metav1.Object, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	}
	return nil, false
}

func lintK8sFile(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	defer f.Close()
	var problems []string
	reader := k8syaml.NewYAMLReader(bufio.NewReader(f))
	for index := 1; ; index++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return append(problems, fmt.Sprintf("%s: document %d: %v", file, index, err))
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		for _, p := range lintK8sDocument(doc) {
			problems = append(problems, fmt.Sprintf("%s: document %d: %s", file, index, p))
		}
	}
	return problems
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func lintK8sDocument(doc []byte) []string {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return []string{err.Error()}
	}
	obj, ok := newObject(meta.APIVersion, meta.Kind)
	if !ok {
		return []string{fmt.Sprintf("apiVersion %q kind %q is not a kind deploy-lint knows (Deployment, ConfigMap, Secret, Service, PodDisruptionBudget)", meta.APIVersion, meta.Kind)}
	}
	// Unknown fields, duplicate keys and wrong types all fail here.
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return []string{fmt.Sprintf("%s: %v", meta.Kind, err)}
	}
	where := fmt.Sprintf("%s %q", meta.Kind, obj.GetName())
	var errs field.ErrorList
	errs = append(errs, checkMeta(obj)...)
	switch o := obj.(type) {
	case *appsv1.Deployment:
		errs = append(errs, checkDeployment(o)...)
	case *corev1.Service:
		errs = append(errs, checkSelector(o.Spec.Selector, field.NewPath("spec", "selector"))...)
		for i, p := range o.Spec.Ports {
			errs = append(errs, checkPortName(p.Name, field.NewPath("spec", "ports").Index(i).Child("name"))...)
		}
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector == nil {
			errs = append(errs, field.Required(field.NewPath("spec", "selector"), "a PodDisruptionBudget without a selector protects nothing"))
		} else {
			errs = append(errs, metavalidation.ValidateLabelSelector(o.Spec.Selector, metavalidation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector"))...)
		}
		if (o.Spec.MinAvailable == nil) == (o.Spec.MaxUnavailable == nil) {
			errs = append(errs, field.Invalid(field.NewPath("spec"), "", "set exactly one of minAvailable and maxUnavailable"))
		}
	case *corev1.ConfigMap:
		for key := range o.Data {
			for _, msg := range validation.IsConfigMapKey(key) {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
			}
		}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s: %s", where, e.Error()))
	}
	return out
}

// The API server's own rules for names and labels (a subset of what it checks on apply).
func checkMeta(obj metav1.Object) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("metadata")
	if obj.GetName() == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1123Subdomain(obj.GetName()) {
		errs = append(errs, field.Invalid(path.Child("name"), obj.GetName(), msg))
	}
	errs = append(errs, metavalidation.ValidateLabels(obj.GetLabels(), path.Child("labels"))...)
	return errs
}

func checkSelector(selector map[string]string, path *field.Path) field.ErrorList {
	if len(selector) == 0 {
		return field.ErrorList{field.Required(path, "an empty selector selects nothing (Service) or everything")}
	}
	return metavalidation.ValidateLabels(selector, path)
}

func checkPortName(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortName(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

// What the API server would refuse in a Deployment that strict decoding alone lets through.
func checkDeployment(d *appsv1.Deployment) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if d.Spec.Selector == nil {
		errs = append(errs, field.Required(spec.Child("selector"), ""))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(d.Spec.Selector, metavalidation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
		selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), d.Spec.Template.Labels, "`selector` does not match template `labels`"))
		}
	}
	pod := spec.Child("template", "spec")
	if len(d.Spec.Template.Spec.Containers) == 0 {
		errs = append(errs, field.Required(pod.Child("containers"), ""))
	}
	volumes := map[string]bool{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = true
	}
	for i, c := range d.Spec.Template.Spec.Containers {
		path := pod.Child("containers").Index(i)
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), c.Name, msg))
		}
		if c.Image == "" {
			errs = append(errs, field.Required(path.Child("image"), ""))
		}
		ports := map[string]bool{}
		for j, p := range c.Ports {
			errs = append(errs, checkPortName(p.Name, path.Child("ports").Index(j).Child("name"))...)
			ports[p.Name] = true
		}
		probes := []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
		for _, p := range probes {
			name, probe := p.name, p.probe
			if probe != nil && probe.HTTPGet != nil && probe.HTTPGet.Port.StrVal != "" && !ports[probe.HTTPGet.Port.StrVal] {
				errs = append(errs, field.NotFound(path.Child(name, "httpGet", "port"), probe.HTTPGet.Port.StrVal))
			}
		}
		for j, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				errs = append(errs, field.NotFound(path.Child("volumeMounts").Index(j).Child("name"), m.Name))
			}
		}
	}
	return errs
}

// `${NAME:?message}` / `${NAME?message}`: required variables, the file's secrets.
var requiredVariable = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?\?`)

func lintCompose(file string) []string {
	content, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	// The file's required variables (its secrets) are unset here: give each a stand-in so
	// interpolation runs, and the typed fields after it are checked, without real values.
	// Variables with defaults keep them.
	env := types.Mapping{}
	for _, m := range requiredVariable.FindAllStringSubmatch(string(content), -1) {
		env[m[1]] = "lint-" + strings.ToLower(m[1])
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: content}},
		Environment: env,
	}
	_, err = loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("deploy-lint", true)
	})
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	return nil
}
