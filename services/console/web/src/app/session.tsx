// Who is signed in, in which brand, and what their roles allow.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { consoleApi, ok, onUnauthorized, type ConsoleTypes } from "../api/client";

export type Me = ConsoleTypes["schemas"]["MeOut"];
export type Permission = Me["permissions"][number];

interface SessionState {
  me: Me | null;
  loading: boolean;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  switchBrand(brand: string): Promise<void>;
  refresh(): Promise<void>;
  can(permission: Permission): boolean;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    const { data, response } = await consoleApi.GET("/api/auth/me").catch(() => ({
      data: undefined,
      response: new Response(null, { status: 0 }),
    }));
    setMe(response.ok && data ? data : null);
    setLoading(false);
  }, []);

  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setMe(null));
  }, [refresh]);

  const value = useMemo<SessionState>(
    () => ({
      me,
      loading,
      refresh,
      async signIn(email, password) {
        const out = await ok(consoleApi.POST("/api/auth/login", { body: { email, password } }));
        setMe(out.user);
      },
      async signOut() {
        await consoleApi.POST("/api/auth/logout").catch(() => undefined);
        setMe(null);
      },
      async switchBrand(brand) {
        const out = await ok(consoleApi.POST("/api/auth/brand", { body: { brand_id: brand } }));
        setMe(out);
      },
      can: (permission) => Boolean(me?.permissions.includes(permission)),
    }),
    [me, loading, refresh],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

/** The signed-in user (inside the signed-in part of the app only). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error("useMe without a session");
  return me;
}

/** The current brand: every page's data is of this brand only. */
export function useBrand(): string {
  return useMe().brand ?? "";
}
