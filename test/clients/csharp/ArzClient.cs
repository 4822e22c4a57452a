// An ARZ client written the way operators write them, with HttpClient (compiled with mono's mcs): the
// v1 calls of the generated SDK, then a hand-written v2 poller. Prints a canonical transcript of every
// answer on stdout and the Server-Timing header of each call on stderr.
//
// Build: mcs -r:System.Net.Http.dll -r:System.Runtime.Serialization.dll -r:System.Xml.Linq.dll ArzClient.cs
// Usage: mono ArzClient.exe BASE_URL LOGIN PASSWORD, or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD in the
// environment (better: the password stays out of the process list).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

static class ArzClient
{
    // "now" in the legacy's UtcNow form (docs/legacy-contract.md §1): the only values that differ between two runs.
    static readonly Regex Now = new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$");
    static readonly string[] Volatile = { "responseTimestamp", "deliveryTimestamp", "lastUpdated" };
    const string V1 = "/api/v1/Prescriptions";
    static HttpClient http;

    static int Main(string[] args)
    {
        string[] settings = args.Length == 3 ? args : new[] { "ARZ_BASE_URL", "ARZ_LOGIN", "ARZ_PASSWORD" }.Select(Environment.GetEnvironmentVariable).ToArray();
        if (settings.Any(string.IsNullOrEmpty))
        {
            Console.Error.WriteLine("usage: mono ArzClient.exe BASE_URL LOGIN PASSWORD (or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD)");
            return 2;
        }
        Console.OutputEncoding = new UTF8Encoding(false);
        http = new HttpClient { BaseAddress = new Uri(settings[0].TrimEnd('/')) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(settings[1] + ":" + settings[2])));
        Run();
        return 0;
    }

    static void Run()
    {
        // The generated SDK: fetch each type's new prescriptions, mark some read, bill some, list pharmacies.
        var fetched = new List<XElement>();
        foreach (var type in new[] { "eMuster16", "pRezept", "eRezept" })
            fetched.AddRange(Call("GET", V1 + "/new?page=1&pageSize=100&rezeptType=" + type, null, true).Element("prescriptions").Elements());
        var read = First(fetched, "eMuster16", 2).Concat(First(fetched, "P-Rezept", 1));
        Call("POST", V1 + "/mark-as-read", "{\"prescriptions\":[" + string.Join(",", read) + "]}", true);
        Call("POST", V1 + "/set-abgerechnet", "{\"prescriptions\":[" + string.Join(",", First(fetched, "E-Rezept", 2)) + "]}", true);
        Call("GET", "/api/Apotheken?page=1&pageSize=5", null, true);

        // The hand-written poller: poll everything and each type, report back what it fetched, poll again.
        var polled = Call("GET", "/v2/rezept?page=1&pageSize=10", null, false).Element("prescriptions").Elements().ToList();
        foreach (var type in new[] { "eMuster16", "P-Rezept", "E-Rezept" })
            Call("GET", "/v2/rezept?page=1&pageSize=10&type=" + type, null, false);
        var updates = new[] {
            Update(Uuid(polled[0]), Type(polled[0]), "true", "null"),
            Update(Uuid(polled[1]), Type(polled[1]), "null", "\"IN_PRUEFUNG\""),
            Update(Uuid(polled.Last()), Type(polled.Last()), "true", "\"GELESEN\""),
            Update("00000000-0000-0000-0000-000000000000", "eMuster16", "true", "null"),
        };
        Call("PATCH", "/v2/rezept/status", "{\"updates\":[" + string.Join(",", updates) + "]}", false);
        Call("GET", "/v2/rezept?page=1&pageSize=10", null, false);
        Call("GET", "/v2/rezept?page=1&pageSize=10", null, false);
    }

    static string Uuid(XElement item) { return item.Element("rezeptUuid").Value; }
    static string Type(XElement item) { return item.Element("type").Value; }

    static string Update(string uuid, string type, string transferArz, string status)
    {
        return "{\"rezeptUuid\":" + Quote(uuid) + ",\"type\":" + Quote(type) + ",\"transferArz\":" + transferArz + ",\"status\":" + status + "}";
    }

    /// The first `count` fetched prescriptions of a type, as the v1 write routes take them.
    static IEnumerable<string> First(IEnumerable<XElement> items, string type, int count)
    {
        return items.Where(i => Type(i) == type).Take(count).Select(i => "{\"type\":" + Quote(type) + ",\"rezeptUuid\":" + Quote(Uuid(i)) + "}");
    }

    /// One call; sdk: with the Accept header the generated SDK sends. Returns the parsed JSON, or null.
    static XElement Call(string method, string path, string body, bool sdk)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (sdk) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body != null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = http.SendAsync(request).Result;
        var bytes = response.Content.ReadAsByteArrayAsync().Result;
        var contentType = response.Content.Headers.ContentType;
        IEnumerable<string> timing;
        XElement json = null;
        try { json = XElement.Load(JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max)); }
        catch (Exception) { }
        var sb = new StringBuilder();
        if (json != null) Write(sb, json); else sb.Append(Quote(Encoding.UTF8.GetString(bytes)));
        Console.Write("> " + method + " " + path + "\n< " + (int)response.StatusCode + " " + (contentType == null ? "" : contentType.ToString()) + "\n" + sb + "\n");
        Console.Error.Write("server-timing " + method + " " + path + " " + (response.Headers.TryGetValues("Server-Timing", out timing) ? string.Join(", ", timing) : "-") + "\n");
        return json;
    }

    /// Sorted keys, no spaces, every non-ASCII character escaped: the form all three clients print.
    static void Write(StringBuilder sb, XElement value)
    {
        switch ((string)value.Attribute("type") ?? "string")
        {
            case "object":
                sb.Append('{');
                var members = value.Elements().Select(m => new { Key = (string)m.Attribute("item") ?? m.Name.LocalName, Value = m }).OrderBy(m => m.Key, StringComparer.Ordinal);
                var firstMember = true;
                foreach (var m in members)
                {
                    if (!firstMember) sb.Append(',');
                    firstMember = false;
                    sb.Append(Quote(m.Key)).Append(':');
                    var isNow = Volatile.Contains(m.Key) && (string)m.Value.Attribute("type") == "string" && Now.IsMatch(m.Value.Value);
                    if (isNow) sb.Append("\"<now>\""); else Write(sb, m.Value);
                }
                sb.Append('}');
                break;
            case "array":
                sb.Append('[');
                var firstItem = true;
                foreach (var item in value.Elements())
                {
                    if (!firstItem) sb.Append(',');
                    firstItem = false;
                    Write(sb, item);
                }
                sb.Append(']');
                break;
            case "string": sb.Append(Quote(value.Value)); break;
            case "null": sb.Append("null"); break;
            default: sb.Append(value.Value); break; // number, boolean: their JSON text
        }
    }

    static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4")); else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
