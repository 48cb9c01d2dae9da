import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { connectContractClient } from "./contract/client.js";
import { AppStateProvider } from "./state/appState.js";
import { ClientContext, shouldRetry } from "./state/queries.js";
import "./styles/app.css";

// The bridge is chosen once, before anything renders: the Electron preload or the web bridge.
const client = connectContractClient(window);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: shouldRetry, refetchOnWindowFocus: false, staleTime: 5_000 },
    mutations: { retry: false },
  },
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <ClientContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>
        <AppStateProvider>
          <App />
        </AppStateProvider>
      </QueryClientProvider>
    </ClientContext.Provider>
  </StrictMode>,
);
