using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sayiir.Dashboard;

/// <summary>The pages: one HTML file, a script and a style sheet, all embedded in the assembly (no CDN, works offline).</summary>
internal static class DashboardAssets
{
    private static readonly Lazy<byte[]> Index = new(() => Read("index.html"));
    private static readonly Lazy<byte[]> Script = new(() => Read("app.js"));
    private static readonly Lazy<byte[]> Style = new(() => Read("app.css"));

    public static void Map(RouteGroupBuilder reads)
    {
        reads.MapGet("/", (HttpContext http) =>
        {
            // The page loads its script and calls the API by relative URLs, so it must be served at "{prefix}/".
            if (!http.Request.Path.Value!.EndsWith('/'))
                return Results.Redirect(http.Request.PathBase + http.Request.Path + "/" + http.Request.QueryString);
            return Asset(http, Index.Value, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
        reads.MapGet("/app.js", (HttpContext http) => Asset(http, Script.Value, "text/javascript; charset=utf-8")).ExcludeFromDescription();
        reads.MapGet("/app.css", (HttpContext http) => Asset(http, Style.Value, "text/css; charset=utf-8")).ExcludeFromDescription();
    }

    private static IResult Asset(HttpContext http, byte[] content, string contentType)
    {
        var headers = http.Response.Headers;
        // Everything the page shows is inserted as text, and it loads nothing from elsewhere: a strict policy costs nothing.
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Bytes(content, contentType);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("Sayiir.Dashboard." + name)
            ?? throw new InvalidOperationException($"The dashboard asset '{name}' is missing from {typeof(DashboardAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
