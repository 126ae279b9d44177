
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-redis' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-redis'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-redis' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Snapshot Redis into a verified backup: a local file or object storage (replication stream or BGSAVE)')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Replace all data in Redis with a backup (asks first)')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Restore a backup into a throwaway Redis pod, check it, time it, delete the pod')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List backups in a directory or object storage, newest first')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every byte of RDB files: structure, encodings, CRC-64')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what an RDB file holds: keys per db, types, biggest keys')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Check everything a backup or restore depends on, and your RBAC')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy backups between repositories (local, S3, GCS, Azure), checked, skipping those there')
            [CompletionResult]::new('repo', 'repo', [CompletionResultType]::ParameterValue, 'A repository''s settings: the recipients every backup to it is encrypted to')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove old backups by a retention policy (a dry run unless --yes)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show a repository''s audit trail: every backup written, read and deleted, by whom')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit non-zero when the newest verified backup is too old (for alerting)')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Archive every write as it happens, to restore to any second (point-in-time recovery)')
            [CompletionResult]::new('runs', 'runs', [CompletionResultType]::ParameterValue, 'The runs `--in-cluster` started (Jobs): list them, follow one, stop one')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;backup' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'How to get the snapshot')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Which server to read: a healthy replica beside the primary, once caught up with it (up to 10 s), sparing the primary the fork, else the primary (auto); only a replica; only the primary')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Back up this Redis directly (outside Kubernetes, or through your own port-forward); stream method only; rediss:// for TLS')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'With --url: a further host that may receive the password and the data (a Redis Cluster''s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url''s host by default')
            [CompletionResult]::new('--password-from-secret', '--password-from-secret', [CompletionResultType]::ParameterName, 'Read the Redis password from this Secret''s key (in the namespace); never printed')
            [CompletionResult]::new('--user-name', '--user-name', [CompletionResultType]::ParameterName, 'ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Also write Prometheus metrics of this run here (see `kubectl redis check --help`)')
            [CompletionResult]::new('--pushgateway', '--pushgateway', [CompletionResultType]::ParameterName, 'Also push the same metrics to this Prometheus Pushgateway (job kubectl-redis-backup)')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Where the backup goes: a directory, or object storage (s3://BUCKET/PREFIX, gs://..., az://CONTAINER/PREFIX, file:///PATH); repeat it to write the same snapshot to several places at once [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Where the backup goes: a directory, or object storage (s3://BUCKET/PREFIX, gs://..., az://CONTAINER/PREFIX, file:///PATH); repeat it to write the same snapshot to several places at once [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'Encrypt the backup with age to this recipient: an age public key (age1...), an SSH public key, or a KMS key (awskms://arn:aws:kms:REGION:ACCOUNT:key/ID, gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K, azurekv://VAULT/keys/NAME: the age key wrapped by KMS, one call per backup); repeatable')
            [CompletionResult]::new('--encrypt-to-file', '--encrypt-to-file', [CompletionResultType]::ParameterName, 'Encrypt to every recipient in this file (one per line, # comments); repeatable')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Encrypt with the passphrase in this Secret''s key (age scrypt), for teams used to `gpg --symmetric`')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Encrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--pin-recipients', '--pin-recipients', [CompletionResultType]::ParameterName, 'Refuse the repository''s recorded recipients unless they have this fingerprint (sha256:..., `repo show`); `schedule` pins them this way, so a bucket writer cannot redirect the Job''s backups to their own key')
            [CompletionResult]::new('--sign-with', '--sign-with', [CompletionResultType]::ParameterName, 'Sign the manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY), so `restore --latest` and `drill` can tell your backups from planted ones')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long BGSAVE may take: 30s, 2m, 1h or plain seconds')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--sanitize', '--sanitize', [CompletionResultType]::ParameterName, 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup')
            [CompletionResult]::new('--sanitize-key-file', '--sanitize-key-file', [CompletionResultType]::ParameterName, 'The mask key: this file''s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy')
            [CompletionResult]::new('--sanitize-key-from-secret', '--sanitize-key-from-secret', [CompletionResultType]::ParameterName, 'The mask key from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--job-image', '--job-image', [CompletionResultType]::ParameterName, 'The Job''s image: the plugin''s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--job-overrides', '--job-overrides', [CompletionResultType]::ParameterName, 'Over the Job''s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets')
            [CompletionResult]::new('--job-resources', '--job-resources', [CompletionResultType]::ParameterName, 'The Job''s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the run''s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'How long the Job may run before Kubernetes stops it')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'A set''s shard Job: the set''s name')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'A set''s shard Job: the lowest slot of its shard')
            [CompletionResult]::new('--set-shards', '--set-shards', [CompletionResultType]::ParameterName, 'A set''s Jobs: every shard''s lowest slot')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--diskless', '--diskless', [CompletionResultType]::ParameterName, 'Stream: always ask for a diskless snapshot, waiting out the server''s repl-diskless-sync-delay (default: when the server delays those, ask for one written to its disk, which starts at once)')
            [CompletionResult]::new('--no-encrypt', '--no-encrypt', [CompletionResultType]::ParameterName, 'Store a plaintext backup in object storage, or ignore the repository''s recipients (`repo init`)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('--in-cluster', '--in-cluster', [CompletionResultType]::ParameterName, 'Run the work as a Kubernetes Job next to the data, from the plugin''s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job''s')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the Job is created, printing the run''s name (follow it with `kubectl logs -f job/NAME`)')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'With --in-cluster and a Redis Cluster: one Job reading every shard and merging them into one file, instead of a backup set (one Job per shard, in parallel; see docs/in-cluster.md)')
            [CompletionResult]::new('--set-plan', '--set-plan', [CompletionResultType]::ParameterName, 'A set''s first Job: plan one Job per shard when the target is a Redis Cluster (else back up as usual)')
            [CompletionResult]::new('--set-abort', '--set-abort', [CompletionResultType]::ParameterName, 'A set''s last Job after a shard failed: remove its shards'' files unless it was sealed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;restore' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--to-time', '--to-time', [CompletionResultType]::ParameterName, 'Restore to a moment from the repository''s archive (`kubectl redis archive`): `latest`, `-10m` (ago) or a UTC time like 2026-12-04T12:00:05Z. Loads the newest base before it, then replays the archived writes up to the end of that second (whole transactions)')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive to restore from (pitr/NAME/ in the repository; a Redis Cluster''s: the name its shards NAME.shard-SLOT share) [default: the only one]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity-from-secret', '--identity-from-secret', [CompletionResultType]::ParameterName, 'Read the identity from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this Secret''s key (backups made with a passphrase)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Restore only backups whose manifest this key signed (kr-ed25519:..., from `repo keygen`; also $KUBECTL_REDIS_TRUST, comma-separated); repeatable. The repository''s own `repo init --signer` keys are required too; --latest skips others, naming them')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--scale-down', '--scale-down', [CompletionResultType]::ParameterName, 'A writer to stop while restoring: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker, skipped with a warning when missing]')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'How the backup gets in: swap (copy the file into the pod, restart Redis), live (replay it into the running server), auto (live when a swap cannot run)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Restore live into this server (outside Kubernetes, or through your own port-forward); no lock, no writers; rediss:// for TLS')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'With --url: a further host that may receive the password and the data (a Redis Cluster''s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url''s host by default')
            [CompletionResult]::new('--only-slots', '--only-slots', [CompletionResultType]::ParameterName, 'A set''s restore Job: restore only the keys of these slot ranges (FIRST-LAST,...) into the one primary serving them')
            [CompletionResult]::new('--backup-first', '--backup-first', [CompletionResultType]::ParameterName, 'Take a verified backup of the current data first (into DIR|URL, else the default repository), and restore only if it succeeded')
            [CompletionResult]::new('--big-value-bytes', '--big-value-bytes', [CompletionResultType]::ParameterName, 'Live: values bigger than this go as commands in batches instead of one RESTORE (also capped by the server''s proto-max-bulk-len)')
            [CompletionResult]::new('--password-from-secret', '--password-from-secret', [CompletionResultType]::ParameterName, 'Read the Redis password from this Secret''s key (in the namespace); never printed')
            [CompletionResult]::new('--user-name', '--user-name', [CompletionResultType]::ParameterName, 'ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Also write Prometheus metrics of this run here (see `kubectl redis check --help`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long Redis may take to come back after SHUTDOWN NOSAVE')
            [CompletionResult]::new('--scale-timeout', '--scale-timeout', [CompletionResultType]::ParameterName, 'How long writers'' pods may take to go away')
            [CompletionResult]::new('--sanitize', '--sanitize', [CompletionResultType]::ParameterName, 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup')
            [CompletionResult]::new('--sanitize-key-file', '--sanitize-key-file', [CompletionResultType]::ParameterName, 'The mask key: this file''s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy')
            [CompletionResult]::new('--sanitize-key-from-secret', '--sanitize-key-from-secret', [CompletionResultType]::ParameterName, 'The mask key from this Secret''s key (in the namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--job-image', '--job-image', [CompletionResultType]::ParameterName, 'The Job''s image: the plugin''s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--job-overrides', '--job-overrides', [CompletionResultType]::ParameterName, 'Over the Job''s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets')
            [CompletionResult]::new('--job-resources', '--job-resources', [CompletionResultType]::ParameterName, 'The Job''s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the run''s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'How long the Job may run before Kubernetes stops it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Use the newest verified backup in the repository (--repo / --out-dir)')
            [CompletionResult]::new('--allow-unsigned', '--allow-unsigned', [CompletionResultType]::ParameterName, 'Restore a backup that is unsigned or signed by no trusted key (said loudly)')
            [CompletionResult]::new('--no-scale-down', '--no-scale-down', [CompletionResultType]::ParameterName, 'Stop no writers at all')
            [CompletionResult]::new('--keep-writers', '--keep-writers', [CompletionResultType]::ParameterName, 'Stop no writers at all')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Live: keep keys that are not in the backup (replace only the backup''s own)')
            [CompletionResult]::new('--set-plan', '--set-plan', [CompletionResultType]::ParameterName, 'A set''s first restore Job: plan one Job per target primary when the set goes into a Redis Cluster (else restore as usual)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check everything and print the plan; change nothing')
            [CompletionResult]::new('--force-unverified', '--force-unverified', [CompletionResultType]::ParameterName, 'DANGER: restore a file that fails verification (corrupt, or differs from its manifest)')
            [CompletionResult]::new('--recover', '--recover', [CompletionResultType]::ParameterName, 'Put back writers that a killed restore left scaled down, then exit')
            [CompletionResult]::new('--allow-sanitized', '--allow-sanitized', [CompletionResultType]::ParameterName, 'Restore a sanitized copy (`copy --sanitize`: keys dropped or masked), into staging')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('--in-cluster', '--in-cluster', [CompletionResultType]::ParameterName, 'Run the work as a Kubernetes Job next to the data, from the plugin''s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job''s')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the Job is created, printing the run''s name (follow it with `kubectl logs -f job/NAME`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;drill' {
            [CompletionResult]::new('--sanitize', '--sanitize', [CompletionResultType]::ParameterName, 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup')
            [CompletionResult]::new('--sanitize-key-file', '--sanitize-key-file', [CompletionResultType]::ParameterName, 'The mask key: this file''s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy')
            [CompletionResult]::new('--sanitize-key-from-secret', '--sanitize-key-from-secret', [CompletionResultType]::ParameterName, 'The mask key from this Secret''s key (in the namespace)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--to-time', '--to-time', [CompletionResultType]::ParameterName, 'Restore to a moment from the repository''s archive (`kubectl redis archive`): `latest`, `-10m` (ago) or a UTC time like 2026-12-04T12:00:05Z. Loads the newest base before it, then replays the archived writes up to the end of that second (whole transactions)')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive to restore from (pitr/NAME/ in the repository; a Redis Cluster''s: the name its shards NAME.shard-SLOT share) [default: the only one]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity-from-secret', '--identity-from-secret', [CompletionResultType]::ParameterName, 'Read the identity from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this Secret''s key (backups made with a passphrase)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Restore only backups whose manifest this key signed (kr-ed25519:..., from `repo keygen`; also $KUBECTL_REDIS_TRUST, comma-separated); repeatable. The repository''s own `repo init --signer` keys are required too; --latest skips others, naming them')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--in', '--in', [CompletionResultType]::ParameterName, 'Namespace for the throwaway pod (default: the source''s)')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image of the throwaway Redis (default: the source pod''s)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server binary on the image''s PATH (default: valkey-server for Valkey images, else redis-server)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port the throwaway server listens on (loopback only)')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory limit of the pod, e.g. 2Gi (the server gets 90% as maxmemory)')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Keys compared value by value')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long the pod may take to be ready')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--job-image', '--job-image', [CompletionResultType]::ParameterName, 'The Job''s image: the plugin''s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--job-overrides', '--job-overrides', [CompletionResultType]::ParameterName, 'Over the Job''s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets')
            [CompletionResult]::new('--job-resources', '--job-resources', [CompletionResultType]::ParameterName, 'The Job''s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the run''s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'How long the Job may run before Kubernetes stops it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Use the newest verified backup in the repository (--repo / --out-dir)')
            [CompletionResult]::new('--allow-unsigned', '--allow-unsigned', [CompletionResultType]::ParameterName, 'Restore a backup that is unsigned or signed by no trusted key (said loudly)')
            [CompletionResult]::new('--host-network', '--host-network', [CompletionResultType]::ParameterName, 'Run the pod on the node''s network (clusters without a pod network)')
            [CompletionResult]::new('--in-cluster', '--in-cluster', [CompletionResultType]::ParameterName, 'Run the work as a Kubernetes Job next to the data, from the plugin''s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job''s')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the Job is created, printing the run''s name (follow it with `kubectl logs -f job/NAME`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;list' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory or object-storage URL to list (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Directory or object-storage URL to list (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;verify' {
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'Check the point-in-time archive NAME in --repo whole (every archive when no NAME is given): each chain''s base as a backup, and every segment''s sha256, its offsets continuing the one before, every command parsed')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The repository holding the archive (with --archive) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity-from-secret', '--identity-from-secret', [CompletionResultType]::ParameterName, 'Read the identity from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this Secret''s key (backups made with a passphrase)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Instead of files: take a snapshot of this Redis over SYNC and check it, saving nothing')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long the server may take to start sending the snapshot (with --url)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--job-image', '--job-image', [CompletionResultType]::ParameterName, 'The Job''s image: the plugin''s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--job-overrides', '--job-overrides', [CompletionResultType]::ParameterName, 'Over the Job''s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets')
            [CompletionResult]::new('--job-resources', '--job-resources', [CompletionResultType]::ParameterName, 'The Job''s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the run''s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'How long the Job may run before Kubernetes stops it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('--in-cluster', '--in-cluster', [CompletionResultType]::ParameterName, 'Run the work as a Kubernetes Job next to the data, from the plugin''s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job''s')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the Job is created, printing the run''s name (follow it with `kubectl logs -f job/NAME`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;inspect' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity-from-secret', '--identity-from-secret', [CompletionResultType]::ParameterName, 'Read the identity from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this Secret''s key (backups made with a passphrase)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'How many of the biggest keys to list')
            [CompletionResult]::new('--prefix-sep', '--prefix-sep', [CompletionResultType]::ParameterName, 'Group keys by the part before this separator, e.g. '':''')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;status' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--scale-down', '--scale-down', [CompletionResultType]::ParameterName, 'Writers to report on: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker]')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Where to look for the newest backup: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Where to look for the newest backup: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;schedule' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'How often: 30m, 1h, 6h, 1d, 1w (must divide an hour or a day)')
            [CompletionResult]::new('--cron', '--cron', [CompletionResultType]::ParameterName, 'A cron expression instead of --every')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The image to run (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Keep backups on this PersistentVolumeClaim')
            [CompletionResult]::new('--host-path', '--host-path', [CompletionResultType]::ParameterName, 'Keep backups in this directory on the node (single-node and development clusters)')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'The backup method the Job uses')
            [CompletionResult]::new('--password-from-secret', '--password-from-secret', [CompletionResultType]::ParameterName, 'Password Secret for the backup (NAME/KEY); the Role may read that Secret only')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'TLS to Redis from a kubernetes.io/tls Secret (ca.crt, tls.crt, tls.key), mounted read-only into the Job''s pod (the Role gets no access to it). A pod whose spec says TLS needs none: the Secret its certificates live on is read')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry (passed to the Job''s backup)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Back up to this object storage instead of a volume (s3://BUCKET/PREFIX, gs://..., az://...)')
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'Encrypt each backup with age to this recipient (public key); repeatable')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Encrypt each backup with the passphrase in this Secret''s key (add get on that Secret to the Role yourself)')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AZURE_STORAGE_ACCOUNT_KEY, GOOGLE_SERVICE_ACCOUNT_KEY, ...)')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the ServiceAccount, for cloud identity: eks.amazonaws.com/role-arn=ARN (IRSA), iam.gke.io/gcp-service-account=EMAIL, azure.workload.identity/client-id=ID; repeatable')
            [CompletionResult]::new('--pushgateway', '--pushgateway', [CompletionResultType]::ParameterName, 'Push each run''s metrics to this Prometheus Pushgateway')
            [CompletionResult]::new('--alert-after', '--alert-after', [CompletionResultType]::ParameterName, 'How old the newest successful backup may get before RedisBackupTooOld fires [default: twice the schedule''s period]')
            [CompletionResult]::new('--alert-archive-lag', '--alert-archive-lag', [CompletionResultType]::ParameterName, 'Also alert on this namespace''s point-in-time archivers (`kubectl redis archive start --service-monitor`): RedisArchiveBehind when a write waits longer than this to be stored, RedisArchiveDown, RedisArchiveSpoolFull, RedisArchiveMetricsAbsent')
            [CompletionResult]::new('--sign-with-secret', '--sign-with-secret', [CompletionResultType]::ParameterName, 'Sign each backup''s manifest with the key in this Secret''s key (a file `kubectl redis repo keygen` wrote: `kubectl create secret generic NAME --from-file=key=FILE`), mounted read-only into the Job''s pod')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'Kill a Job still running after this long (activeDeadlineSeconds), so a stalled run cannot block the later ones [default: the schedule''s period, 10m to 6h]')
            [CompletionResult]::new('--drill-cron', '--drill-cron', [CompletionResultType]::ParameterName, 'When the drill runs')
            [CompletionResult]::new('--drill-in', '--drill-in', [CompletionResultType]::ParameterName, 'Namespace of the drill''s throwaway pod (the Role there is yours to grant)')
            [CompletionResult]::new('--drill-identity-from-secret', '--drill-identity-from-secret', [CompletionResultType]::ParameterName, 'The drill decrypts backups with the age identity in this Secret''s key (add get on that Secret to the Role yourself)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name of the CronJob, ServiceAccount, Role and RoleBinding')
            [CompletionResult]::new('--cronjob-api', '--cronjob-api', [CompletionResultType]::ParameterName, 'CronJob API version when printing (with --apply it is asked of the cluster)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format when printing')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format when printing')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--no-encrypt', '--no-encrypt', [CompletionResultType]::ParameterName, 'Store plaintext backups in object storage')
            [CompletionResult]::new('--alerts', '--alerts', [CompletionResultType]::ParameterName, 'Also print a PrometheusRule: no successful backup for --alert-after, or the last one failed (needs --pushgateway)')
            [CompletionResult]::new('--drill', '--drill', [CompletionResultType]::ParameterName, 'Also schedule a restore drill: a second CronJob (NAME-drill) restoring the newest backup into a throwaway pod and checking it (`kubectl redis drill`); its Job fails (exit 7) on any difference')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply to the cluster (server-side apply) instead of printing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;copy' {
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Copy only the newest N backups')
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'Encrypt plaintext backups with age to this recipient on the way (age1..., an SSH public key, or a KMS key: awskms://ARN, gcpkms://..., azurekv://...); repeatable')
            [CompletionResult]::new('--encrypt-to-file', '--encrypt-to-file', [CompletionResultType]::ParameterName, 'Encrypt to every recipient in this file; repeatable')
            [CompletionResult]::new('--sign-with', '--sign-with', [CompletionResultType]::ParameterName, 'Sign each copy''s manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY): a copy''s manifest is its own, so the source''s signature does not carry over')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]')
            [CompletionResult]::new('--identity-from-secret', '--identity-from-secret', [CompletionResultType]::ParameterName, 'Read the identity from this Secret''s key (in the namespace)')
            [CompletionResult]::new('--passphrase-from-secret', '--passphrase-from-secret', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this Secret''s key (backups made with a passphrase)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Decrypt with the passphrase in this file (its first line)')
            [CompletionResult]::new('--sanitize', '--sanitize', [CompletionResultType]::ParameterName, 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup')
            [CompletionResult]::new('--sanitize-key-file', '--sanitize-key-file', [CompletionResultType]::ParameterName, 'The mask key: this file''s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy')
            [CompletionResult]::new('--sanitize-key-from-secret', '--sanitize-key-from-secret', [CompletionResultType]::ParameterName, 'The mask key from this Secret''s key (in the namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--job-image', '--job-image', [CompletionResultType]::ParameterName, 'The Job''s image: the plugin''s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]')
            [CompletionResult]::new('--job-overrides', '--job-overrides', [CompletionResultType]::ParameterName, 'Over the Job''s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets')
            [CompletionResult]::new('--job-resources', '--job-resources', [CompletionResultType]::ParameterName, 'The Job''s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the Job''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'An annotation on the run''s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)')
            [CompletionResult]::new('--job-deadline', '--job-deadline', [CompletionResultType]::ParameterName, 'How long the Job may run before Kubernetes stops it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--no-encrypt', '--no-encrypt', [CompletionResultType]::ParameterName, 'Copy plaintext backups into object storage as plaintext')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Copy each backup set (a Redis Cluster backed up one Job per shard) as one merged backup file, as a local backup of the cluster writes it, instead of shard by shard')
            [CompletionResult]::new('--in-cluster', '--in-cluster', [CompletionResultType]::ParameterName, 'Run the work as a Kubernetes Job next to the data, from the plugin''s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job''s')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the Job is created, printing the run''s name (follow it with `kubectl logs -f job/NAME`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;repo' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Record the recipients every backup to this repository is encrypted to')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make an Ed25519 key that signs backups'' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the repository''s settings')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;repo;init' {
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'age recipient (age1...), SSH public key, or KMS key (awskms://ARN, gcpkms://projects/..., azurekv://VAULT/keys/NAME: each backup''s age key wrapped by it); repeatable, and mixed: any one of them opens a backup')
            [CompletionResult]::new('--encrypt-to-file', '--encrypt-to-file', [CompletionResultType]::ParameterName, 'A file of recipients, one per line; repeatable')
            [CompletionResult]::new('--signer', '--signer', [CompletionResultType]::ParameterName, 'Require backups restored by --latest or drilled to be signed by this key (kr-ed25519:..., from `repo keygen`); repeatable. Pair with `backup --sign-with`')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing settings (key rotation: new backups go to the new recipients)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;repo;keygen' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where the secret key goes (refused if it exists)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;repo;show' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;repo;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Record the recipients every backup to this repository is encrypted to')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make an Ed25519 key that signs backups'' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the repository''s settings')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;repo;help;init' {
            break
        }
        'kubectl-redis;repo;help;keygen' {
            break
        }
        'kubectl-redis;repo;help;show' {
            break
        }
        'kubectl-redis;repo;help;help' {
            break
        }
        'kubectl-redis;prune' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--keep-last', '--keep-last', [CompletionResultType]::ParameterName, 'Keep the newest N')
            [CompletionResult]::new('--keep-within', '--keep-within', [CompletionResultType]::ParameterName, 'Keep everything newer than this (e.g. 7d, 36h)')
            [CompletionResult]::new('--keep-hourly', '--keep-hourly', [CompletionResultType]::ParameterName, 'Keep the newest backup of each of the last N hours that have one')
            [CompletionResult]::new('--keep-daily', '--keep-daily', [CompletionResultType]::ParameterName, 'Keep the newest backup of each of the last N days (UTC) that have one')
            [CompletionResult]::new('--keep-weekly', '--keep-weekly', [CompletionResultType]::ParameterName, 'Keep the newest backup of each of the last N weeks (Monday to Sunday, UTC)')
            [CompletionResult]::new('--keep-pitr', '--keep-pitr', [CompletionResultType]::ParameterName, 'Point-in-time archives (`kubectl redis archive`): keep the bases (and their segments) needed to restore any second this far back; older chains go with their segments. Without it, every base an archive chain starts from is kept')
            [CompletionResult]::new('--leftovers-older-than', '--leftovers-older-than', [CompletionResultType]::ParameterName, 'Leftovers of interrupted backups (temporary files, data without a manifest, unfinished multipart uploads) older than this are removed')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Remove for real (without it, only the plan is printed)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Remove for real (without it, only the plan is printed)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;audit' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository: a directory or object-storage URL (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Repository: a directory or object-storage URL (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records newer than this: 30m, 12h, 7d, 2w')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;check' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]')
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'The oldest the newest verified backup may be')
            [CompletionResult]::new('--max-archive-lag', '--max-archive-lag', [CompletionResultType]::ParameterName, 'Also fail when the newest second the point-in-time archive holds (`kubectl redis archive`) is older than this (an idle server''s archive still advances: a heartbeat segment every three segment intervals)')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive --max-archive-lag checks [default: every archive in the repository]')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Write Prometheus text-format metrics here (atomically)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;archive' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the archives in a repository: recovery windows, gaps, broken segments')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Deploy the archiver next to Redis: a Deployment of the plugin''s image with least RBAC')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Remove what `archive start` created (the archive in the repository stays)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;archive;run' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Follow a server by address: redis://HOST:PORT or rediss://HOST:PORT (the password from $REDISCLI_AUTH, never the URL) [default: the primary among the pods, as `backup` finds it]')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'With --url: a further host that may receive the password and the stream (a Redis Cluster''s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url''s host by default')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--password-from-secret', '--password-from-secret', [CompletionResultType]::ParameterName, 'Password Secret (NAME/KEY) [default: the Redis container''s own, read through the API]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Where bases and segments go: a directory or s3://, gs://, az:// URL')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive''s name in the repository (pitr/NAME/) [default: NAMESPACE-WORKLOAD, or the URL''s host and port]')
            [CompletionResult]::new('--segment-size', '--segment-size', [CompletionResultType]::ParameterName, 'Close a segment once it holds this much (e.g. 16MiB)')
            [CompletionResult]::new('--segment-interval', '--segment-interval', [CompletionResultType]::ParameterName, 'Close a segment once its first write is this old: the most a crash can lose of what Redis already acknowledged to its clients, and how late `WAIT 1` returns')
            [CompletionResult]::new('--spool-size', '--spool-size', [CompletionResultType]::ParameterName, 'Segments waiting for the repository (in memory, or in --spool-dir); when full, reading stops')
            [CompletionResult]::new('--ack', '--ack', [CompletionResultType]::ParameterName, 'What REPLCONF ACK reports: `stored` (only what the repository holds) or `received` (for servers whose min-replicas-to-write would otherwise wait on the repository)')
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'Encrypt to these age recipients [default: the repository''s, from `repo init`]')
            [CompletionResult]::new('--encrypt-to-file', '--encrypt-to-file', [CompletionResultType]::ParameterName, 'Recipients from a file (one per line)')
            [CompletionResult]::new('--user-name', '--user-name', [CompletionResultType]::ParameterName, 'An ACL user for the archiver (it needs +psync +replconf +ping +info)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--metrics-port', '--metrics-port', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics on this port (GET /metrics)')
            [CompletionResult]::new('--spool-dir', '--spool-dir', [CompletionResultType]::ParameterName, 'Keep the spool in this directory instead of memory (segments waiting for the repository, encrypted when the archive is; emptied at start: the chain resumes from what the repository holds). `archive start` uses an emptyDir')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--no-encrypt', '--no-encrypt', [CompletionResultType]::ParameterName, 'Store plaintext in object storage')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;archive;status' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The repository: a directory or s3://, gs://, az:// URL')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'One archive only [default: every archive in the repository]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;archive;start' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of searching by label')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container running Redis (default: the pod''s default container, else one named redis)')
            [CompletionResult]::new('--redis-port', '--redis-port', [CompletionResultType]::ParameterName, 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Where bases and segments go: a directory or s3://, gs://, az:// URL')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive''s name in the repository (pitr/NAME/) [default: NAMESPACE-WORKLOAD, or the URL''s host and port]')
            [CompletionResult]::new('--segment-size', '--segment-size', [CompletionResultType]::ParameterName, 'Close a segment once it holds this much (e.g. 16MiB)')
            [CompletionResult]::new('--segment-interval', '--segment-interval', [CompletionResultType]::ParameterName, 'Close a segment once its first write is this old: the most a crash can lose of what Redis already acknowledged to its clients, and how late `WAIT 1` returns')
            [CompletionResult]::new('--spool-size', '--spool-size', [CompletionResultType]::ParameterName, 'Segments waiting for the repository (in memory, or in --spool-dir); when full, reading stops')
            [CompletionResult]::new('--ack', '--ack', [CompletionResultType]::ParameterName, 'What REPLCONF ACK reports: `stored` (only what the repository holds) or `received` (for servers whose min-replicas-to-write would otherwise wait on the repository)')
            [CompletionResult]::new('--encrypt-to', '--encrypt-to', [CompletionResultType]::ParameterName, 'Encrypt to these age recipients [default: the repository''s, from `repo init`]')
            [CompletionResult]::new('--encrypt-to-file', '--encrypt-to-file', [CompletionResultType]::ParameterName, 'Recipients from a file (one per line)')
            [CompletionResult]::new('--user-name', '--user-name', [CompletionResultType]::ParameterName, 'An ACL user for the archiver (it needs +psync +replconf +ping +info)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificate(s) that signed the server''s certificate (PEM) [default: the CA file the pod''s TLS options name, read from its Secret; with --url, the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod''s own certificate from its Secret]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (a PEM file; a file others can read is warned about)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry [default: --url''s host; for a pod, its DNS names and those of the Services selecting it, never localhost]')
            [CompletionResult]::new('--tls-from-secret', '--tls-from-secret', [CompletionResultType]::ParameterName, 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client''s certificate')
            [CompletionResult]::new('--tls-from-dir', '--tls-from-dir', [CompletionResultType]::ParameterName, 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API')
            [CompletionResult]::new('--password-from-secret', '--password-from-secret', [CompletionResultType]::ParameterName, 'Password Secret (NAME/KEY) [default: the Redis container''s own, read through the API]')
            [CompletionResult]::new('--repo-credentials-from-secret', '--repo-credentials-from-secret', [CompletionResultType]::ParameterName, 'A Secret whose keys become the archiver''s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...)')
            [CompletionResult]::new('--service-account-annotation', '--service-account-annotation', [CompletionResultType]::ParameterName, 'Annotations for its ServiceAccount (workload identity), KEY=VALUE; repeatable')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The plugin''s image [default: the image of this version]')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The objects'' name')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--no-encrypt', '--no-encrypt', [CompletionResultType]::ParameterName, 'Store plaintext in object storage')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (anyone in the path can read the password and the data; a warning is printed)')
            [CompletionResult]::new('--service-monitor', '--service-monitor', [CompletionResultType]::ParameterName, 'Also a ServiceMonitor (prometheus-operator) scraping its metrics, for the rules of `kubectl redis schedule --alerts --alert-archive-lag`')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply to the cluster (server-side apply) instead of printing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print only, even with cluster access')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;archive;stop' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The objects'' name (as given to `archive start`)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;archive;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the archives in a repository: recovery windows, gaps, broken segments')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Deploy the archiver next to Redis: a Deployment of the plugin''s image with least RBAC')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Remove what `archive start` created (the archive in the repository stays)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;archive;help;run' {
            break
        }
        'kubectl-redis;archive;help;status' {
            break
        }
        'kubectl-redis;archive;help;start' {
            break
        }
        'kubectl-redis;archive;help;stop' {
            break
        }
        'kubectl-redis;archive;help;help' {
            break
        }
        'kubectl-redis;runs' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Follow a run: its progress as it comes, its result, its exit code')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;runs;logs' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;runs;delete' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;runs;help' {
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Follow a run: its progress as it comes, its result, its exit code')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;runs;help;logs' {
            break
        }
        'kubectl-redis;runs;help;delete' {
            break
        }
        'kubectl-redis;runs;help;help' {
            break
        }
        'kubectl-redis;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: $NS, then the context''s namespace, then "default")')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each step of the state machine to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-redis;help' {
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Snapshot Redis into a verified backup: a local file or object storage (replication stream or BGSAVE)')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Replace all data in Redis with a backup (asks first)')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Restore a backup into a throwaway Redis pod, check it, time it, delete the pod')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List backups in a directory or object storage, newest first')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every byte of RDB files: structure, encodings, CRC-64')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what an RDB file holds: keys per db, types, biggest keys')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Check everything a backup or restore depends on, and your RBAC')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy backups between repositories (local, S3, GCS, Azure), checked, skipping those there')
            [CompletionResult]::new('repo', 'repo', [CompletionResultType]::ParameterValue, 'A repository''s settings: the recipients every backup to it is encrypted to')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove old backups by a retention policy (a dry run unless --yes)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show a repository''s audit trail: every backup written, read and deleted, by whom')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit non-zero when the newest verified backup is too old (for alerting)')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Archive every write as it happens, to restore to any second (point-in-time recovery)')
            [CompletionResult]::new('runs', 'runs', [CompletionResultType]::ParameterValue, 'The runs `--in-cluster` started (Jobs): list them, follow one, stop one')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-redis;help;backup' {
            break
        }
        'kubectl-redis;help;restore' {
            break
        }
        'kubectl-redis;help;drill' {
            break
        }
        'kubectl-redis;help;list' {
            break
        }
        'kubectl-redis;help;verify' {
            break
        }
        'kubectl-redis;help;inspect' {
            break
        }
        'kubectl-redis;help;status' {
            break
        }
        'kubectl-redis;help;schedule' {
            break
        }
        'kubectl-redis;help;copy' {
            break
        }
        'kubectl-redis;help;repo' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Record the recipients every backup to this repository is encrypted to')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make an Ed25519 key that signs backups'' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the repository''s settings')
            break
        }
        'kubectl-redis;help;repo;init' {
            break
        }
        'kubectl-redis;help;repo;keygen' {
            break
        }
        'kubectl-redis;help;repo;show' {
            break
        }
        'kubectl-redis;help;prune' {
            break
        }
        'kubectl-redis;help;audit' {
            break
        }
        'kubectl-redis;help;check' {
            break
        }
        'kubectl-redis;help;archive' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the archives in a repository: recovery windows, gaps, broken segments')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Deploy the archiver next to Redis: a Deployment of the plugin''s image with least RBAC')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Remove what `archive start` created (the archive in the repository stays)')
            break
        }
        'kubectl-redis;help;archive;run' {
            break
        }
        'kubectl-redis;help;archive;status' {
            break
        }
        'kubectl-redis;help;archive;start' {
            break
        }
        'kubectl-redis;help;archive;stop' {
            break
        }
        'kubectl-redis;help;runs' {
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Follow a run: its progress as it comes, its result, its exit code')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects')
            break
        }
        'kubectl-redis;help;runs;logs' {
            break
        }
        'kubectl-redis;help;runs;delete' {
            break
        }
        'kubectl-redis;help;completion' {
            break
        }
        'kubectl-redis;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
