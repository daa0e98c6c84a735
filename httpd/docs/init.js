// Starts Swagger UI on the daemon's own description. Kept out of index.html
// so the page's Content-Security-Policy can forbid inline script.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Everything stays on this machine: no schema validator badge call-out.
  validatorUrl: null,
  // Keep "Authorize" (bearer token) across reloads of this tab.
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
