// The API documentation page: Swagger UI on the served schema (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.schemaUrl, dom_id: "#swagger-ui" });
});
