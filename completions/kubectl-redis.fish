# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_redis_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= color= v/verbose h/help V/version
end

function __fish_kubectl_redis_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_redis_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_redis_using_subcommand
    set -l cmd (__fish_kubectl_redis_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "backup" -d 'Snapshot Redis into a verified backup: a local file or object storage (replication stream or BGSAVE)'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "restore" -d 'Replace all data in Redis with a backup (asks first)'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "drill" -d 'Restore a backup into a throwaway Redis pod, check it, time it, delete the pod'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "list" -d 'List backups in a directory or object storage, newest first'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "verify" -d 'Check every byte of RDB files: structure, encodings, CRC-64'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "inspect" -d 'Show what an RDB file holds: keys per db, types, biggest keys'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "status" -d 'Check everything a backup or restore depends on, and your RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "schedule" -d 'Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "copy" -d 'Copy backups between repositories (local, S3, GCS, Azure), checked, skipping those there'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "repo" -d 'A repository\'s settings: the recipients every backup to it is encrypted to'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "prune" -d 'Remove old backups by a retention policy (a dry run unless --yes)'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "audit" -d 'Show a repository\'s audit trail: every backup written, read and deleted, by whom'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "check" -d 'Exit non-zero when the newest verified backup is too old (for alerting)'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "archive" -d 'Archive every write as it happens, to restore to any second (point-in-time recovery)'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "runs" -d 'The runs `--in-cluster` started (Jobs): list them, follow one, stop one'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-redis -n "__fish_kubectl_redis_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l method -d 'How to get the snapshot' -r -f -a "auto\t'stream when the server and cluster allow it, else bgsave'
stream\t'replication SYNC through a port-forward (or --url): no exec, no shell, no disk on the server'
bgsave\t'BGSAVE in the pod, then copy the file out through exec (the runbook\'s way)'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l from -d 'Which server to read: a healthy replica beside the primary, once caught up with it (up to 10 s), sparing the primary the fork, else the primary (auto); only a replica; only the primary' -r -f -a "auto\t'a healthy, caught-up replica when replicas are known beside the primary, else the primary'
primary\t'always the primary'
replica\t'a healthy, caught-up replica, or fail (exit 11)'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l url -d 'Back up this Redis directly (outside Kubernetes, or through your own port-forward); stream method only; rediss:// for TLS' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l allow-host -d 'With --url: a further host that may receive the password and the data (a Redis Cluster\'s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url\'s host by default' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l password-from-secret -d 'Read the Redis password from this Secret\'s key (in the namespace); never printed' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l user-name -d 'ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l metrics-file -d 'Also write Prometheus metrics of this run here (see `kubectl redis check --help`)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l pushgateway -d 'Also push the same metrics to this Prometheus Pushgateway (job kubectl-redis-backup)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l out-dir -l repo -d 'Where the backup goes: a directory, or object storage (s3://BUCKET/PREFIX, gs://..., az://CONTAINER/PREFIX, file:///PATH); repeat it to write the same snapshot to several places at once [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l encrypt-to -d 'Encrypt the backup with age to this recipient: an age public key (age1...), an SSH public key, or a KMS key (awskms://arn:aws:kms:REGION:ACCOUNT:key/ID, gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K, azurekv://VAULT/keys/NAME: the age key wrapped by KMS, one call per backup); repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l encrypt-to-file -d 'Encrypt to every recipient in this file (one per line, # comments); repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l passphrase-from-secret -d 'Encrypt with the passphrase in this Secret\'s key (age scrypt), for teams used to `gpg --symmetric`' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l passphrase-file -d 'Encrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l pin-recipients -d 'Refuse the repository\'s recorded recipients unless they have this fingerprint (sha256:..., `repo show`); `schedule` pins them this way, so a bucket writer cannot redirect the Job\'s backups to their own key' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l sign-with -d 'Sign the manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY), so `restore --latest` and `drill` can tell your backups from planted ones' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l timeout -d 'How long BGSAVE may take: 30s, 2m, 1h or plain seconds' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l sanitize -d 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l sanitize-key-file -d 'The mask key: this file\'s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l sanitize-key-from-secret -d 'The mask key from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l job-image -d 'The Job\'s image: the plugin\'s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l job-overrides -d 'Over the Job\'s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l job-resources -d 'The Job\'s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l service-account-annotation -d 'An annotation on the run\'s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l pvc -d 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l job-deadline -d 'How long the Job may run before Kubernetes stops it' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l set -d 'A set\'s shard Job: the set\'s name' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l shard -d 'A set\'s shard Job: the lowest slot of its shard' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l set-shards -d 'A set\'s Jobs: every shard\'s lowest slot' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l diskless -d 'Stream: always ask for a diskless snapshot, waiting out the server\'s repl-diskless-sync-delay (default: when the server delays those, ask for one written to its disk, which starts at once)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l no-encrypt -d 'Store a plaintext backup in object storage, or ignore the repository\'s recipients (`repo init`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l in-cluster -d 'Run the work as a Kubernetes Job next to the data, from the plugin\'s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job\'s'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l detach -d 'Return once the Job is created, printing the run\'s name (follow it with `kubectl logs -f job/NAME`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l merge -d 'With --in-cluster and a Redis Cluster: one Job reading every shard and merging them into one file, instead of a backup set (one Job per shard, in parallel; see docs/in-cluster.md)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l set-plan -d 'A set\'s first Job: plan one Job per shard when the target is a Redis Cluster (else back up as usual)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -l set-abort -d 'A set\'s last Job after a shard failed: remove its shards\' files unless it was sealed'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand backup" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s f -l file -d 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l out-dir -l repo -d 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l to-time -d 'Restore to a moment from the repository\'s archive (`kubectl redis archive`): `latest`, `-10m` (ago) or a UTC time like 2026-12-04T12:00:05Z. Loads the newest base before it, then replays the archived writes up to the end of that second (whole transactions)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l archive -d 'The archive to restore from (pitr/NAME/ in the repository; a Redis Cluster\'s: the name its shards NAME.shard-SLOT share) [default: the only one]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s i -l identity -d 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l identity-from-secret -d 'Read the identity from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l passphrase-from-secret -d 'Decrypt with the passphrase in this Secret\'s key (backups made with a passphrase)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l passphrase-file -d 'Decrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l trust -d 'Restore only backups whose manifest this key signed (kr-ed25519:..., from `repo keygen`; also $KUBECTL_REDIS_TRUST, comma-separated); repeatable. The repository\'s own `repo init --signer` keys are required too; --latest skips others, naming them' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l scale-down -d 'A writer to stop while restoring: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker, skipped with a warning when missing]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l method -d 'How the backup gets in: swap (copy the file into the pod, restart Redis), live (replay it into the running server), auto (live when a swap cannot run)' -r -f -a "auto\t'Live when a swap cannot run or is unsafe, swap otherwise'
swap\t'Copy the file into the pod and restart Redis (needs exec, sh and file tools)'
live\t'Replay the backup into the running server (no exec, no restart)'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l url -d 'Restore live into this server (outside Kubernetes, or through your own port-forward); no lock, no writers; rediss:// for TLS' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l allow-host -d 'With --url: a further host that may receive the password and the data (a Redis Cluster\'s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url\'s host by default' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l only-slots -d 'A set\'s restore Job: restore only the keys of these slot ranges (FIRST-LAST,...) into the one primary serving them' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l backup-first -d 'Take a verified backup of the current data first (into DIR|URL, else the default repository), and restore only if it succeeded' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l big-value-bytes -d 'Live: values bigger than this go as commands in batches instead of one RESTORE (also capped by the server\'s proto-max-bulk-len)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l password-from-secret -d 'Read the Redis password from this Secret\'s key (in the namespace); never printed' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l user-name -d 'ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l metrics-file -d 'Also write Prometheus metrics of this run here (see `kubectl redis check --help`)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l timeout -d 'How long Redis may take to come back after SHUTDOWN NOSAVE' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l scale-timeout -d 'How long writers\' pods may take to go away' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l sanitize -d 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l sanitize-key-file -d 'The mask key: this file\'s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l sanitize-key-from-secret -d 'The mask key from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l job-image -d 'The Job\'s image: the plugin\'s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l job-overrides -d 'Over the Job\'s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l job-resources -d 'The Job\'s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l service-account-annotation -d 'An annotation on the run\'s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l pvc -d 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l job-deadline -d 'How long the Job may run before Kubernetes stops it' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l latest -d 'Use the newest verified backup in the repository (--repo / --out-dir)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l allow-unsigned -d 'Restore a backup that is unsigned or signed by no trusted key (said loudly)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l no-scale-down -l keep-writers -d 'Stop no writers at all'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l merge -d 'Live: keep keys that are not in the backup (replace only the backup\'s own)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l set-plan -d 'A set\'s first restore Job: plan one Job per target primary when the set goes into a Redis Cluster (else restore as usual)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l dry-run -d 'Check everything and print the plan; change nothing'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l force-unverified -d 'DANGER: restore a file that fails verification (corrupt, or differs from its manifest)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l recover -d 'Put back writers that a killed restore left scaled down, then exit'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l allow-sanitized -d 'Restore a sanitized copy (`copy --sanitize`: keys dropped or masked), into staging'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l in-cluster -d 'Run the work as a Kubernetes Job next to the data, from the plugin\'s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job\'s'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -l detach -d 'Return once the Job is created, printing the run\'s name (follow it with `kubectl logs -f job/NAME`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand restore" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l sanitize -d 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l sanitize-key-file -d 'The mask key: this file\'s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l sanitize-key-from-secret -d 'The mask key from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s f -l file -d 'The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l out-dir -l repo -d 'Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l to-time -d 'Restore to a moment from the repository\'s archive (`kubectl redis archive`): `latest`, `-10m` (ago) or a UTC time like 2026-12-04T12:00:05Z. Loads the newest base before it, then replays the archived writes up to the end of that second (whole transactions)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l archive -d 'The archive to restore from (pitr/NAME/ in the repository; a Redis Cluster\'s: the name its shards NAME.shard-SLOT share) [default: the only one]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s i -l identity -d 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l identity-from-secret -d 'Read the identity from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l passphrase-from-secret -d 'Decrypt with the passphrase in this Secret\'s key (backups made with a passphrase)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l passphrase-file -d 'Decrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l trust -d 'Restore only backups whose manifest this key signed (kr-ed25519:..., from `repo keygen`; also $KUBECTL_REDIS_TRUST, comma-separated); repeatable. The repository\'s own `repo init --signer` keys are required too; --latest skips others, naming them' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l in -d 'Namespace for the throwaway pod (default: the source\'s)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l image -d 'Image of the throwaway Redis (default: the source pod\'s)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l server -d 'Server binary on the image\'s PATH (default: valkey-server for Valkey images, else redis-server)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l port -d 'Port the throwaway server listens on (loopback only)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l memory -d 'Memory limit of the pod, e.g. 2Gi (the server gets 90% as maxmemory)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l sample -d 'Keys compared value by value' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l timeout -d 'How long the pod may take to be ready' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l job-image -d 'The Job\'s image: the plugin\'s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l job-overrides -d 'Over the Job\'s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l job-resources -d 'The Job\'s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l service-account-annotation -d 'An annotation on the run\'s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l pvc -d 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l job-deadline -d 'How long the Job may run before Kubernetes stops it' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l latest -d 'Use the newest verified backup in the repository (--repo / --out-dir)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l allow-unsigned -d 'Restore a backup that is unsigned or signed by no trusted key (said loudly)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l host-network -d 'Run the pod on the node\'s network (clusters without a pod network)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l in-cluster -d 'Run the work as a Kubernetes Job next to the data, from the plugin\'s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job\'s'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -l detach -d 'Return once the Job is created, printing the run\'s name (follow it with `kubectl logs -f job/NAME`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand drill" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l out-dir -l repo -d 'Directory or object-storage URL to list (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand list" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l archive -d 'Check the point-in-time archive NAME in --repo whole (every archive when no NAME is given): each chain\'s base as a backup, and every segment\'s sha256, its offsets continuing the one before, every command parsed' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l repo -d 'The repository holding the archive (with --archive) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s i -l identity -d 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l identity-from-secret -d 'Read the identity from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l passphrase-from-secret -d 'Decrypt with the passphrase in this Secret\'s key (backups made with a passphrase)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l passphrase-file -d 'Decrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l url -d 'Instead of files: take a snapshot of this Redis over SYNC and check it, saving nothing' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l timeout -d 'How long the server may take to start sending the snapshot (with --url)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l job-image -d 'The Job\'s image: the plugin\'s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l job-overrides -d 'Over the Job\'s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l job-resources -d 'The Job\'s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l service-account-annotation -d 'An annotation on the run\'s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l pvc -d 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l job-deadline -d 'How long the Job may run before Kubernetes stops it' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l in-cluster -d 'Run the work as a Kubernetes Job next to the data, from the plugin\'s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job\'s'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -l detach -d 'Return once the Job is created, printing the run\'s name (follow it with `kubectl logs -f job/NAME`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand verify" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s i -l identity -d 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l identity-from-secret -d 'Read the identity from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l passphrase-from-secret -d 'Decrypt with the passphrase in this Secret\'s key (backups made with a passphrase)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l passphrase-file -d 'Decrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l top -d 'How many of the biggest keys to list' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l prefix-sep -d 'Group keys by the part before this separator, e.g. \':\'' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l scale-down -d 'Writers to report on: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l out-dir -l repo -d 'Where to look for the newest backup: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l every -d 'How often: 30m, 1h, 6h, 1d, 1w (must divide an hour or a day)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l cron -d 'A cron expression instead of --every' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l image -d 'The image to run (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l pvc -d 'Keep backups on this PersistentVolumeClaim' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l host-path -d 'Keep backups in this directory on the node (single-node and development clusters)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l method -d 'The backup method the Job uses' -r -f -a "auto\t''
stream\t''
bgsave\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l password-from-secret -d 'Password Secret for the backup (NAME/KEY); the Role may read that Secret only' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l tls-from-secret -d 'TLS to Redis from a kubernetes.io/tls Secret (ca.crt, tls.crt, tls.key), mounted read-only into the Job\'s pod (the Role gets no access to it). A pod whose spec says TLS needs none: the Secret its certificates live on is read' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l tls-server-name -d 'The name the server\'s certificate must carry (passed to the Job\'s backup)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l repo -d 'Back up to this object storage instead of a volume (s3://BUCKET/PREFIX, gs://..., az://...)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l encrypt-to -d 'Encrypt each backup with age to this recipient (public key); repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l passphrase-from-secret -d 'Encrypt each backup with the passphrase in this Secret\'s key (add get on that Secret to the Role yourself)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AZURE_STORAGE_ACCOUNT_KEY, GOOGLE_SERVICE_ACCOUNT_KEY, ...)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l service-account-annotation -d 'An annotation on the ServiceAccount, for cloud identity: eks.amazonaws.com/role-arn=ARN (IRSA), iam.gke.io/gcp-service-account=EMAIL, azure.workload.identity/client-id=ID; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l pushgateway -d 'Push each run\'s metrics to this Prometheus Pushgateway' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l alert-after -d 'How old the newest successful backup may get before RedisBackupTooOld fires [default: twice the schedule\'s period]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l alert-archive-lag -d 'Also alert on this namespace\'s point-in-time archivers (`kubectl redis archive start --service-monitor`): RedisArchiveBehind when a write waits longer than this to be stored, RedisArchiveDown, RedisArchiveSpoolFull, RedisArchiveMetricsAbsent' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l sign-with-secret -d 'Sign each backup\'s manifest with the key in this Secret\'s key (a file `kubectl redis repo keygen` wrote: `kubectl create secret generic NAME --from-file=key=FILE`), mounted read-only into the Job\'s pod' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l job-deadline -d 'Kill a Job still running after this long (activeDeadlineSeconds), so a stalled run cannot block the later ones [default: the schedule\'s period, 10m to 6h]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l drill-cron -d 'When the drill runs' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l drill-in -d 'Namespace of the drill\'s throwaway pod (the Role there is yours to grant)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l drill-identity-from-secret -d 'The drill decrypts backups with the age identity in this Secret\'s key (add get on that Secret to the Role yourself)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l name -d 'Name of the CronJob, ServiceAccount, Role and RoleBinding' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l cronjob-api -d 'CronJob API version when printing (with --apply it is asked of the cluster)' -r -f -a "batch/v1\t''
batch/v1beta1\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s o -l output -d 'Output format when printing' -r -f -a "yaml\t'YAML documents'
json\t'A v1 List'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l no-encrypt -d 'Store plaintext backups in object storage'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l alerts -d 'Also print a PrometheusRule: no successful backup for --alert-after, or the last one failed (needs --pushgateway)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l drill -d 'Also schedule a restore drill: a second CronJob (NAME-drill) restoring the newest backup into a throwaway pod and checking it (`kubectl redis drill`); its Job fails (exit 7) on any difference'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -l apply -d 'Apply to the cluster (server-side apply) instead of printing'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand schedule" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l latest -d 'Copy only the newest N backups' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l encrypt-to -d 'Encrypt plaintext backups with age to this recipient on the way (age1..., an SSH public key, or a KMS key: awskms://ARN, gcpkms://..., azurekv://...); repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l encrypt-to-file -d 'Encrypt to every recipient in this file; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l sign-with -d 'Sign each copy\'s manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY): a copy\'s manifest is its own, so the source\'s signature does not carry over' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s i -l identity -d 'age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l identity-from-secret -d 'Read the identity from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l passphrase-from-secret -d 'Decrypt with the passphrase in this Secret\'s key (backups made with a passphrase)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l passphrase-file -d 'Decrypt with the passphrase in this file (its first line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l sanitize -d 'Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l sanitize-key-file -d 'The mask key: this file\'s bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l sanitize-key-from-secret -d 'The mask key from this Secret\'s key (in the namespace)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l job-image -d 'The Job\'s image: the plugin\'s own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l job-overrides -d 'Over the Job\'s pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l job-resources -d 'The Job\'s requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l repo-credentials-from-secret -d 'A Secret whose keys become the Job\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l service-account-annotation -d 'An annotation on the run\'s ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l pvc -d 'Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l job-deadline -d 'How long the Job may run before Kubernetes stops it' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l no-encrypt -d 'Copy plaintext backups into object storage as plaintext'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l merge -d 'Copy each backup set (a Redis Cluster backed up one Job per shard) as one merged backup file, as a local backup of the cluster writes it, instead of shard by shard'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l in-cluster -d 'Run the work as a Kubernetes Job next to the data, from the plugin\'s own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job\'s'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -l detach -d 'Return once the Job is created, printing the run\'s name (follow it with `kubectl logs -f job/NAME`)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand copy" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -f -a "init" -d 'Record the recipients every backup to this repository is encrypted to'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -f -a "keygen" -d 'Make an Ed25519 key that signs backups\' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -f -a "show" -d 'Print the repository\'s settings'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and not __fish_seen_subcommand_from init keygen show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l encrypt-to -d 'age recipient (age1...), SSH public key, or KMS key (awskms://ARN, gcpkms://projects/..., azurekv://VAULT/keys/NAME: each backup\'s age key wrapped by it); repeatable, and mixed: any one of them opens a backup' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l encrypt-to-file -d 'A file of recipients, one per line; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l signer -d 'Require backups restored by --latest or drilled to be signed by this key (kr-ed25519:..., from `repo keygen`); repeatable. Pair with `backup --sign-with`' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -l force -d 'Replace existing settings (key rotation: new backups go to the new recipients)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l out -d 'Where the secret key goes (refused if it exists)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from keygen" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "init" -d 'Record the recipients every backup to this repository is encrypted to'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "keygen" -d 'Make an Ed25519 key that signs backups\' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the repository\'s settings'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l out-dir -l repo -d 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-last -d 'Keep the newest N' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-within -d 'Keep everything newer than this (e.g. 7d, 36h)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-hourly -d 'Keep the newest backup of each of the last N hours that have one' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-daily -d 'Keep the newest backup of each of the last N days (UTC) that have one' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-weekly -d 'Keep the newest backup of each of the last N weeks (Monday to Sunday, UTC)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l keep-pitr -d 'Point-in-time archives (`kubectl redis archive`): keep the bases (and their segments) needed to restore any second this far back; older chains go with their segments. Without it, every base an archive chain starts from is kept' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l leftovers-older-than -d 'Leftovers of interrupted backups (temporary files, data without a manifest, unfinished multipart uploads) older than this are removed' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s y -l yes -d 'Remove for real (without it, only the plan is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand prune" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l repo -l out-dir -d 'Repository: a directory or object-storage URL (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l since -d 'Only records newer than this: 30m, 12h, 7d, 2w' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand audit" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l out-dir -l repo -d 'Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l max-age -d 'The oldest the newest verified backup may be' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l max-archive-lag -d 'Also fail when the newest second the point-in-time archive holds (`kubectl redis archive`) is older than this (an idle server\'s archive still advances: a heartbeat segment every three segment intervals)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l archive -d 'The archive --max-archive-lag checks [default: every archive in the repository]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l metrics-file -d 'Write Prometheus text-format metrics here (atomically)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand check" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -f -a "run" -d 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -f -a "status" -d 'Show the archives in a repository: recovery windows, gaps, broken segments'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -f -a "start" -d 'Deploy the archiver next to Redis: a Deployment of the plugin\'s image with least RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -f -a "stop" -d 'Remove what `archive start` created (the archive in the repository stays)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and not __fish_seen_subcommand_from run status start stop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l url -d 'Follow a server by address: redis://HOST:PORT or rediss://HOST:PORT (the password from $REDISCLI_AUTH, never the URL) [default: the primary among the pods, as `backup` finds it]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l allow-host -d 'With --url: a further host that may receive the password and the stream (a Redis Cluster\'s nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url\'s host by default' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l password-from-secret -d 'Password Secret (NAME/KEY) [default: the Redis container\'s own, read through the API]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l repo -d 'Where bases and segments go: a directory or s3://, gs://, az:// URL' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l archive -d 'The archive\'s name in the repository (pitr/NAME/) [default: NAMESPACE-WORKLOAD, or the URL\'s host and port]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l segment-size -d 'Close a segment once it holds this much (e.g. 16MiB)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l segment-interval -d 'Close a segment once its first write is this old: the most a crash can lose of what Redis already acknowledged to its clients, and how late `WAIT 1` returns' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l spool-size -d 'Segments waiting for the repository (in memory, or in --spool-dir); when full, reading stops' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l ack -d 'What REPLCONF ACK reports: `stored` (only what the repository holds) or `received` (for servers whose min-replicas-to-write would otherwise wait on the repository)' -r -f -a "stored\t''
received\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l encrypt-to -d 'Encrypt to these age recipients [default: the repository\'s, from `repo init`]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l encrypt-to-file -d 'Recipients from a file (one per line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l user-name -d 'An ACL user for the archiver (it needs +psync +replconf +ping +info)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l metrics-port -d 'Serve Prometheus metrics on this port (GET /metrics)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l spool-dir -d 'Keep the spool in this directory instead of memory (segments waiting for the repository, encrypted when the archive is; emptied at start: the chain resumes from what the repository holds). `archive start` uses an emptyDir' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l no-encrypt -d 'Store plaintext in object storage'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l repo -d 'The repository: a directory or s3://, gs://, az:// URL' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l archive -d 'One archive only [default: every archive in the repository]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s l -l selector -d 'Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l pod -d 'Use this pod instead of searching by label' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s c -l container -d 'Container running Redis (default: the pod\'s default container, else one named redis)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l redis-port -d 'Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l repo -d 'Where bases and segments go: a directory or s3://, gs://, az:// URL' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l archive -d 'The archive\'s name in the repository (pitr/NAME/) [default: NAMESPACE-WORKLOAD, or the URL\'s host and port]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l segment-size -d 'Close a segment once it holds this much (e.g. 16MiB)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l segment-interval -d 'Close a segment once its first write is this old: the most a crash can lose of what Redis already acknowledged to its clients, and how late `WAIT 1` returns' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l spool-size -d 'Segments waiting for the repository (in memory, or in --spool-dir); when full, reading stops' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l ack -d 'What REPLCONF ACK reports: `stored` (only what the repository holds) or `received` (for servers whose min-replicas-to-write would otherwise wait on the repository)' -r -f -a "stored\t''
received\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l encrypt-to -d 'Encrypt to these age recipients [default: the repository\'s, from `repo init`]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l encrypt-to-file -d 'Recipients from a file (one per line)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l user-name -d 'An ACL user for the archiver (it needs +psync +replconf +ping +info)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l cacert -d 'CA certificate(s) that signed the server\'s certificate (PEM) [default: the CA file the pod\'s TLS options name, read from its Secret; with --url, the system\'s CAs]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l cert -d 'Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for one, the pod\'s own certificate from its Secret]' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l key -d 'The client certificate\'s private key (a PEM file; a file others can read is warned about)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l tls-server-name -d 'The name the server\'s certificate must carry [default: --url\'s host; for a pod, its DNS names and those of the Services selecting it, never localhost]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l tls-from-secret -d 'A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt and tls.key are the client\'s certificate' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l tls-from-dir -d 'Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a scheduled Job is given, so it needs no access to the Secret through the API' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l password-from-secret -d 'Password Secret (NAME/KEY) [default: the Redis container\'s own, read through the API]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l repo-credentials-from-secret -d 'A Secret whose keys become the archiver\'s environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l service-account-annotation -d 'Annotations for its ServiceAccount (workload identity), KEY=VALUE; repeatable' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l image -d 'The plugin\'s image [default: the image of this version]' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l name -d 'The objects\' name' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l no-encrypt -d 'Store plaintext in object storage'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l tls -d 'Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (anyone in the path can read the password and the data; a warning is printed)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l service-monitor -d 'Also a ServiceMonitor (prometheus-operator) scraping its metrics, for the rules of `kubectl redis schedule --alerts --alert-archive-lag`'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l apply -d 'Apply to the cluster (server-side apply) instead of printing'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -l dry-run -d 'Print only, even with cluster access'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l name -d 'The objects\' name (as given to `archive start`)' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from help" -f -a "run" -d 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the archives in a repository: recovery windows, gaps, broken segments'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from help" -f -a "start" -d 'Deploy the archiver next to Redis: a Deployment of the plugin\'s image with least RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Remove what `archive start` created (the archive in the repository stays)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand archive; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -f -a "logs" -d 'Follow a run: its progress as it comes, its result, its exit code'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -f -a "delete" -d 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and not __fish_seen_subcommand_from logs delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable text'
json\t'One JSON document on stdout'"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Follow a run: its progress as it comes, its result, its exit code'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -s n -l namespace -d 'Namespace (default: $NS, then the context\'s namespace, then "default")' -r
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -s v -l verbose -d 'Print each step of the state machine to stderr'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "backup" -d 'Snapshot Redis into a verified backup: a local file or object storage (replication stream or BGSAVE)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "restore" -d 'Replace all data in Redis with a backup (asks first)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "drill" -d 'Restore a backup into a throwaway Redis pod, check it, time it, delete the pod'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "list" -d 'List backups in a directory or object storage, newest first'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "verify" -d 'Check every byte of RDB files: structure, encodings, CRC-64'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "inspect" -d 'Show what an RDB file holds: keys per db, types, biggest keys'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "status" -d 'Check everything a backup or restore depends on, and your RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "schedule" -d 'Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "copy" -d 'Copy backups between repositories (local, S3, GCS, Azure), checked, skipping those there'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "repo" -d 'A repository\'s settings: the recipients every backup to it is encrypted to'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "prune" -d 'Remove old backups by a retention policy (a dry run unless --yes)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "audit" -d 'Show a repository\'s audit trail: every backup written, read and deleted, by whom'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "check" -d 'Exit non-zero when the newest verified backup is too old (for alerting)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "archive" -d 'Archive every write as it happens, to restore to any second (point-in-time recovery)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "runs" -d 'The runs `--in-cluster` started (Jobs): list them, follow one, stop one'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and not __fish_seen_subcommand_from backup restore drill list verify inspect status schedule copy repo prune audit check archive runs completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "init" -d 'Record the recipients every backup to this repository is encrypted to'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "keygen" -d 'Make an Ed25519 key that signs backups\' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "show" -d 'Print the repository\'s settings'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from archive" -f -a "run" -d 'Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from archive" -f -a "status" -d 'Show the archives in a repository: recovery windows, gaps, broken segments'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from archive" -f -a "start" -d 'Deploy the archiver next to Redis: a Deployment of the plugin\'s image with least RBAC'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from archive" -f -a "stop" -d 'Remove what `archive start` created (the archive in the repository stays)'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "logs" -d 'Follow a run: its progress as it comes, its result, its exit code'
complete -c kubectl-redis -n "__fish_kubectl_redis_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "delete" -d 'Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects'
