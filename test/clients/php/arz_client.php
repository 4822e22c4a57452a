<?php
// An ARZ client written the way operators write them, with PHP's curl: the v1 calls of the generated
// SDK, then a hand-written v2 poller. Prints a canonical transcript of every answer on stdout and the
// Server-Timing header of each call on stderr.
//
// Usage: php arz_client.php BASE_URL LOGIN PASSWORD, or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD in the
// environment (better: the password stays out of the process list).
declare(strict_types=1);

// "now" in the legacy's UtcNow form (docs/legacy-contract.md §1): the only values that differ between two runs.
const NOW = '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/';
const VOLATILE = ['responseTimestamp', 'deliveryTimestamp', 'lastUpdated'];
const SDK_HEADERS = ['Accept: application/json', 'User-Agent: OpenAPI-Generator/1.0.0/php'];
const V1 = '/api/v1/Prescriptions';

/** Sorted keys, no spaces, every non-ASCII character escaped: the form all three clients print. */
function canonical(mixed $value): string
{
    if ($value instanceof stdClass) {
        $members = get_object_vars($value);
        ksort($members, SORT_STRING);
        $parts = [];
        foreach ($members as $key => $member) {
            $shown = in_array($key, VOLATILE, true) && is_string($member) && preg_match(NOW, $member) ? '<now>' : $member;
            $parts[] = canonical((string) $key) . ':' . canonical($shown);
        }
        return '{' . implode(',', $parts) . '}';
    }
    if (is_array($value)) {
        return '[' . implode(',', array_map('canonical', $value)) . ']';
    }
    // json_encode leaves DEL (0x7F) as it is; Python's ensure_ascii escapes it.
    return str_replace("\x7f", '\u007f', json_encode($value, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR));
}

final class ArzClient
{
    public function __construct(private string $baseUrl, private string $login, private string $password)
    {
    }

    public function call(string $method, string $path, ?array $body = null, array $headers = []): mixed
    {
        $responseHeaders = [];
        $curl = curl_init(rtrim($this->baseUrl, '/') . $path);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPAUTH => CURLAUTH_BASIC,
            CURLOPT_USERPWD => $this->login . ':' . $this->password,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HEADERFUNCTION => function ($curl, string $line) use (&$responseHeaders): int {
                $pair = explode(':', $line, 2);
                if (count($pair) === 2) $responseHeaders[strtolower(trim($pair[0]))] = trim($pair[1]);
                return strlen($line);
            },
        ]);
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
            curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode($body, JSON_THROW_ON_ERROR));
        }
        curl_setopt($curl, CURLOPT_HTTPHEADER, $headers);
        $text = curl_exec($curl);
        if ($text === false) throw new RuntimeException("$method $path: " . curl_error($curl));
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);

        $json = json_decode($text, false, 512, JSON_BIGINT_AS_STRING);
        $shown = $text !== '' && json_last_error() === JSON_ERROR_NONE ? $json : $text;
        echo "> $method $path\n< $status " . ($responseHeaders['content-type'] ?? '') . "\n" . canonical($shown) . "\n";
        fwrite(STDERR, "server-timing $method $path " . ($responseHeaders['server-timing'] ?? '-') . "\n");
        return $json;
    }
}

/** The first $count fetched prescriptions of a type, as the v1 write routes take them. */
function first(array $items, string $type, int $count): array
{
    $ofType = array_values(array_filter($items, fn ($item) => $item->type === $type));
    return array_map(fn ($item) => ['type' => $item->type, 'rezeptUuid' => $item->rezeptUuid], array_slice($ofType, 0, $count));
}

function run(ArzClient $client): void
{
    // The generated SDK: fetch each type's new prescriptions, mark some read, bill some, list pharmacies.
    $fetched = [];
    foreach (['eMuster16', 'pRezept', 'eRezept'] as $type) {
        $page = $client->call('GET', V1 . "/new?page=1&pageSize=100&rezeptType=$type", null, SDK_HEADERS);
        $fetched = array_merge($fetched, $page->prescriptions);
    }
    $read = array_merge(first($fetched, 'eMuster16', 2), first($fetched, 'P-Rezept', 1));
    $client->call('POST', V1 . '/mark-as-read', ['prescriptions' => $read], SDK_HEADERS);
    $client->call('POST', V1 . '/set-abgerechnet', ['prescriptions' => first($fetched, 'E-Rezept', 2)], SDK_HEADERS);
    $client->call('GET', '/api/Apotheken?page=1&pageSize=5', null, SDK_HEADERS);

    // The hand-written poller: poll everything and each type, report back what it fetched, poll again.
    $polled = $client->call('GET', '/v2/rezept?page=1&pageSize=10')->prescriptions;
    foreach (['eMuster16', 'P-Rezept', 'E-Rezept'] as $type) {
        $client->call('GET', "/v2/rezept?page=1&pageSize=10&type=$type");
    }
    $last = $polled[count($polled) - 1];
    $updates = [
        ['rezeptUuid' => $polled[0]->rezeptUuid, 'type' => $polled[0]->type, 'transferArz' => true, 'status' => null],
        ['rezeptUuid' => $polled[1]->rezeptUuid, 'type' => $polled[1]->type, 'transferArz' => null, 'status' => 'IN_PRUEFUNG'],
        ['rezeptUuid' => $last->rezeptUuid, 'type' => $last->type, 'transferArz' => true, 'status' => 'GELESEN'],
        ['rezeptUuid' => '00000000-0000-0000-0000-000000000000', 'type' => 'eMuster16', 'transferArz' => true, 'status' => null],
    ];
    $client->call('PATCH', '/v2/rezept/status', ['updates' => $updates]);
    $client->call('GET', '/v2/rezept?page=1&pageSize=10');
    $client->call('GET', '/v2/rezept?page=1&pageSize=10');
}

[$baseUrl, $login, $password] = count($argv) === 4
    ? array_slice($argv, 1)
    : [getenv('ARZ_BASE_URL'), getenv('ARZ_LOGIN'), getenv('ARZ_PASSWORD')];
if (!$baseUrl || !$login || !$password) {
    fwrite(STDERR, "usage: php arz_client.php BASE_URL LOGIN PASSWORD (or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD)\n");
    exit(2);
}
run(new ArzClient($baseUrl, $login, $password));
