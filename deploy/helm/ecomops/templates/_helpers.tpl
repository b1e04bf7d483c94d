{{/* The chart's name, and the release's full name: every object is named after it, so two releases of this chart
live side by side in one namespace. */}}
{{- define "ecomops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecomops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's object name, "<fullname>-<component>": the full name is shortened, never the component, so the
components of one release cannot collide at 63 characters. Takes (dict "root" $ "component" "order"). */}}
{{- define "ecomops.componentName" -}}
{{- $prefix := include "ecomops.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix .component }}
{{- end }}

{{/* Selector labels: stable for the life of a release (a Deployment's selector cannot change). Takes (dict "root" $
"component" "order"); without a component, the release-wide labels. */}}
{{- define "ecomops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecomops.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "ecomops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ecomops.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ecomops
{{- end }}

{{- define "ecomops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecomops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ecomops.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The payment provider finance pays refunds through: the one given, else this release's simulator. */}}
{{- define "ecomops.paymentProviderUrl" -}}
{{- $url := .Values.services.finance.paymentProviderUrl }}
{{- if and (not $url) .Values.paymentSimulator.enabled }}
{{- if eq .Values.environment "production" }}
{{- fail "paymentSimulator.enabled with environment=production: the finance service refuses the simulator in production; set environment: development, or services.finance.paymentProviderUrl to the real payment provider" }}
{{- end }}
{{- $url = printf "http://%s:%v" (include "ecomops.componentName" (dict "root" . "component" "payment-simulator")) .Values.paymentSimulator.port }}
{{- end }}
{{- required "services.finance.paymentProviderUrl: set the payment provider's refund API URL (required while paymentSimulator.enabled is false, the default)" $url }}
{{- end }}

{{/* The carrier API shipping buys labels from and reads tracking of: the one given, else this release's simulator. */}}
{{- define "ecomops.carrierUrl" -}}
{{- $url := .Values.services.shipping.carrierUrl }}
{{- if and (not $url) .Values.carrierSimulator.enabled }}
{{- if eq .Values.environment "production" }}
{{- fail "carrierSimulator.enabled with environment=production: the shipping service refuses the simulator in production; set environment: development, or services.shipping.carrierUrl to the carrier gateway" }}
{{- end }}
{{- $url = printf "http://%s:%v" (include "ecomops.componentName" (dict "root" . "component" "carrier-simulator")) .Values.carrierSimulator.port }}
{{- end }}
{{- required "services.shipping.carrierUrl: set the carrier gateway's URL (required while carrierSimulator.enabled is false, the default)" $url }}
{{- end }}

{{/* Where people reach the ops console (the sign-in's redirect URI is built on it): the one given, else the control
service's ingress host, else the address `kubectl port-forward` serves it at. */}}
{{- define "ecomops.controlPublicUrl" -}}
{{- $control := .Values.services.control }}
{{- if $control.publicUrl }}
{{- $control.publicUrl }}
{{- else if and .Values.ingress.enabled $control.ingress }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls))) $control.ingress.host }}
{{- else }}
{{- printf "http://127.0.0.1:%v" $control.port }}
{{- end }}
{{- end }}

{{/* Pod Security "restricted": the image's user (uid 10001), never root, the runtime's default seccomp profile. */}}
{{- define "ecomops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The root filesystem is read-only: the services keep their data in PostgreSQL; /tmp is an emptyDir. */}}
{{- define "ecomops.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Pod-level settings every pod of the release shares. */}}
{{- define "ecomops.podCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "ecomops.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "ecomops.kafkaCaVolume" -}}
{{- $tls := .Values.kafka.tls }}
{{- with $tls.caSecret }}
- name: kafka-ca
  secret: {secretName: {{ . }}, items: [{key: {{ $tls.caKey }}, path: ca.crt}]}
{{- end }}
{{- end }}

{{- define "ecomops.kafkaSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.security.protocol }}true{{ end }}
{{- end }}

{{/* The Secret with each Kafka principal's password (key kafka-<principal>). */}}
{{- define "ecomops.kafkaPasswordsSecret" -}}
{{- required "kafka.sasl.existingSecret: name the Secret with each Kafka principal's password (keys kafka-order, ... kafka-finance), required with kafka.security.protocol SASL_*" .Values.kafka.sasl.existingSecret }}
{{- end }}

{{/* How a client reaches and authenticates to Kafka (ecomops_common.kafka_security, unprefixed), the services' and
the setup Job's; not who it is. */}}
{{- define "ecomops.kafkaEnv" -}}
{{- $kafka := .Values.kafka }}
{{- if and (eq .Values.environment "production") (not (include "ecomops.kafkaSasl" .)) }}
{{- fail "environment=production: the services refuse Kafka without SASL; set kafka.security.protocol: SASL_SSL" }}
{{- end -}}
- {name: KAFKA_BOOTSTRAP_SERVERS, value: {{ $kafka.bootstrapServers | quote }}}
- {name: KAFKA_SECURITY_PROTOCOL, value: {{ $kafka.security.protocol | quote }}}
{{- if include "ecomops.kafkaSasl" . }}
- {name: KAFKA_SASL_MECHANISM, value: {{ $kafka.sasl.mechanism | quote }}}
{{- end }}
{{- if include "ecomops.kafkaCaVolume" . }}
- {name: KAFKA_SSL_CAFILE, value: /etc/ecomops/kafka-ca/ca.crt}
{{- end }}
{{- end }}

{{/* Volumes and mounts of a service container (and its migration Job): a writable /tmp, the Kafka CA bundle. */}}
{{- define "ecomops.volumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- include "ecomops.kafkaCaVolume" . }}
{{- end }}

{{- define "ecomops.volumeMounts" -}}
- {name: tmp, mountPath: /tmp}
{{- if include "ecomops.kafkaCaVolume" . }}
- {name: kafka-ca, mountPath: /etc/ecomops/kafka-ca, readOnly: true}
{{- end }}
{{- end }}

{{/* A service's environment, the same for its pods and its migration Job (whose settings load and check the
same way). Variable names: each service's settings prefix (ORDER_, ...), Kafka, OpenID Connect and OpenTelemetry
unprefixed. Takes (dict "root" $ "name" "order" "svc" $svc). */}}
{{- define "ecomops.serviceEnv" -}}
{{- $root := .root }}
{{- $prefix := upper .name }}
{{- $oidc := $root.Values.oidc }}
{{- include "ecomops.kafkaEnv" $root }}
- {name: KAFKA_REPLICATION_FACTOR, value: {{ $root.Values.kafka.replicationFactor | quote }}}
{{- if include "ecomops.kafkaSasl" $root }}
{{- /* The service's own principal (its grants in files/kafka-acls.json); the password never in the manifest. */}}
- {name: KAFKA_SASL_USERNAME, value: {{ .name | quote }}}
- name: KAFKA_SASL_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "ecomops.kafkaPasswordsSecret" $root }}, key: kafka-{{ .name }}}}
{{- end }}
- {name: OIDC_ISSUER, value: {{ required "oidc.issuer: set the OpenID Connect issuer whose tokens the services take (the tokens' iss, e.g. https://id.example.com/realms/ecomops)" $oidc.issuer | quote }}}
- {name: OIDC_AUDIENCE, value: {{ $oidc.audience | quote }}}
- {name: OIDC_ROLES_CLAIM, value: {{ $oidc.rolesClaim | quote }}}
{{- with $oidc.jwksUrl }}
- {name: OIDC_JWKS_URL, value: {{ . | quote }}}
{{- end }}
{{- with $oidc.backchannelUrl }}
- {name: OIDC_BACKCHANNEL_URL, value: {{ . | quote }}}
{{- end }}
- {name: OIDC_CONSOLE_CLIENT_ID, value: {{ $oidc.consoleClientId | quote }}}
{{- if $root.Values.otel.endpoint }}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ $root.Values.otel.endpoint | quote }}}
{{- else if $root.Values.observability.enabled }}
{{- /* The release's own collector (templates/observability.yaml) when no other endpoint is named. */}}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ printf "http://%s:4318" (include "ecomops.componentName" (dict "root" $root "component" "otel-collector")) | quote }}}
{{- end }}
- {name: OTEL_SERVICE_NAME, value: {{ .name | quote }}}
- {name: {{ $prefix }}_ENVIRONMENT, value: {{ $root.Values.environment | quote }}}
- {name: {{ $prefix }}_HTTP_HOST, value: "0.0.0.0"}
- {name: {{ $prefix }}_HTTP_PORT, value: {{ .svc.port | quote }}}
- name: {{ $prefix }}_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .svc.secretName }}, key: DATABASE_URL}}
{{- if eq .name "finance" }}
- {name: FINANCE_PAYMENT_PROVIDER_URL, value: {{ include "ecomops.paymentProviderUrl" $root | quote }}}
{{- end }}
{{- if eq .name "shipping" }}
- {name: SHIPPING_CARRIER_URL, value: {{ include "ecomops.carrierUrl" $root | quote }}}
{{- end }}
{{- if eq .name "control" }}
- {name: CONTROL_PUBLIC_URL, value: {{ include "ecomops.controlPublicUrl" $root | quote }}}
{{- /* The console's actions and pages call the owning services at their Services in this release. */}}
{{- range $other := list "order" "allocation" "warehouse" "returns" "finance" "catalog" "supply" "shipping" }}
- {name: CONTROL_{{ upper $other }}_URL, value: {{ printf "http://%s:%v" (include "ecomops.componentName" (dict "root" $root "component" $other)) (get $root.Values.services $other).port | quote }}}
{{- end }}
{{- end }}
{{- range $key, $value := .svc.env }}
- {name: {{ $key }}, value: {{ $value | quote }}}
{{- end }}
{{- end }}
