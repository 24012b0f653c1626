# syntax=docker/dockerfile:1
# Sayiir cluster images (see docker-compose.yml and src/Sayiir.Silo/README.md).
#
#   docker build -t sayiir-silo .                                  the default target: Sayiir.Silo + the ClusterWorkflows module
#   docker build -t sayiir-clusterclient --target clusterclient .  the client-only sample
#
# Build context: the repository root (.dockerignore keeps bin/ obj/ artifacts/ out).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Solution-wide build settings and central package versions, the engine, the host and the two samples.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
COPY samples/ClusterWorkflows/ samples/ClusterWorkflows/
COPY samples/ClusterClient/ samples/ClusterClient/
RUN dotnet restore src/Sayiir.Silo/Sayiir.Silo.csproj \
 && dotnet restore samples/ClusterClient/ClusterClient.csproj
RUN dotnet publish src/Sayiir.Silo/Sayiir.Silo.csproj -c Release --no-restore -o /out/silo \
 && dotnet publish samples/ClusterWorkflows/ClusterWorkflows.csproj -c Release --no-restore -o /out/modules/ClusterWorkflows \
 && dotnet publish samples/ClusterClient/ClusterClient.csproj -c Release --no-restore -o /out/clusterclient

# The client-only sample: no silo, no task services; finds the gateways in the PostgreSQL membership table.
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS clusterclient
WORKDIR /app
COPY --from=build /out/clusterclient ./
USER $APP_UID
ENTRYPOINT ["dotnet", "ClusterClient.dll"]

# The silo (default target). Modules (workflow assemblies) live under /modules; the ClusterWorkflows sample is
# loaded unless SAYIIR__MODULES says otherwise. Every other setting comes from SAYIIR__* variables.
# ASP.NET Core's runtime: the silo serves the dashboard when SAYIIR__DASHBOARD__PORT is set.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS silo
WORKDIR /app
COPY --from=build /out/silo ./
COPY --from=build /out/modules /modules
ENV SAYIIR__MODULES=/modules/ClusterWorkflows/ClusterWorkflows.dll \
    SAYIIR__SILOPORT=11111 \
    SAYIIR__GATEWAYPORT=30000
EXPOSE 11111 30000
USER $APP_UID
ENTRYPOINT ["dotnet", "Sayiir.Silo.dll"]
